import type { Queryable } from './db.js';
import { InvalidStoreInputError, whenNotMigrated } from './errors.js';
import type { GlobalPosition } from './read-all.js';
import { MESSAGE_COLUMNS, toStoredMessage, type MessageRow, type StoredMessage } from './stored-message.js';

/*
 * Retention for the store's own tables. The log is read by checkpointed readers (outbox
 * relays, projections); a message may leave it only once every one of them has passed it.
 * What may leave is the caller's decision (a finished saga's stream, an outbox message past
 * its age): the log is also the event store, so the store never decides it by itself.
 */

export type RetentionMode = 'archive' | 'delete';

/** The reader furthest behind: no message after its checkpoint may leave the log. */
export interface OldestReader {
  readonly name: string;
  readonly position: GlobalPosition;
}

export async function oldestReader(q: Queryable): Promise<OldestReader | null> {
  const r = await q
    .query<{ name: string; tx_id: string; position: string }>('SELECT name, tx_id::text AS tx_id, position::text AS position FROM ordo_checkpoints ORDER BY tx_id, position LIMIT 1')
    .catch((err: unknown) => {
      throw whenNotMigrated(err);
    });
  const row = r.rows[0];
  return row ? { name: row.name, position: { txId: BigInt(row.tx_id), position: BigInt(row.position) } } : null;
}

export interface RemovedStreams {
  /** Streams whose messages left the log (or had none). */
  readonly removed: readonly string[];
  /** Streams kept because a reader has not passed all of their messages yet. */
  readonly held: readonly string[];
  readonly messages: number;
}

const mode = (m: RetentionMode): RetentionMode => {
  if (m !== 'archive' && m !== 'delete') throw new InvalidStoreInputError('mode', `must be "archive" or "delete", got ${String(m)}`);
  return m;
};

/**
 * Moves whole streams out of the log (to `ordo_messages_archive`, or deletes them), each
 * only if every checkpointed reader has passed all of its messages; the others are
 * returned as `held`. With no checkpoint at all nothing leaves (a relay that has not run
 * yet has none, and its messages must still go out). Run it in the transaction that removes what the streams belong to.
 */
export async function removeStreams(tx: Queryable, streams: readonly string[], how: RetentionMode): Promise<RemovedStreams> {
  mode(how);
  if (streams.length === 0) return { removed: [], held: [], messages: 0 };
  const heldSet = await heldStreams(tx, streams);
  const removed = streams.filter((s) => !heldSet.has(s));
  if (removed.length === 0) return { removed, held: [...heldSet], messages: 0 };
  const r =
    how === 'archive'
      ? await tx.query(
          `WITH moved AS (DELETE FROM ordo_messages WHERE stream = ANY($1::text[]) RETURNING position, tx_id, stream, stream_version, id, type, data, metadata, created_at)
           INSERT INTO ordo_messages_archive (position, tx_id, stream, stream_version, id, type, data, metadata, created_at) SELECT * FROM moved`,
          [removed],
        )
      : await tx.query('DELETE FROM ordo_messages WHERE stream = ANY($1::text[])', [removed]);
  return { removed, held: [...heldSet], messages: r.rowCount };
}

/** Of `streams`, those with a message some checkpointed reader has not passed (all of them without a checkpoint). */
export async function heldStreams(q: Queryable, streams: readonly string[]): Promise<Set<string>> {
  if (streams.length === 0) return new Set();
  const held = await q.query<{ stream: string }>(
    `SELECT DISTINCT m.stream FROM ordo_messages m LEFT JOIN (SELECT tx_id, position FROM ordo_checkpoints ORDER BY tx_id, position LIMIT 1) h ON true
     WHERE m.stream = ANY($1::text[]) AND (h.tx_id IS NULL OR (m.tx_id, m.position) > (h.tx_id, h.position))`,
    [streams],
  );
  return new Set(held.rows.map((r) => r.stream));
}

/**
 * Trims an outbox-only log by age: messages older than `olderThan` that every reader has
 * passed (none without a checkpoint), up to `limit` per call. Only for a log whose streams are not an event store
 * (a service that appends its reports for the relay and never reads them back).
 */
export async function trimOutbox(tx: Queryable, olderThan: Date, how: RetentionMode, limit: number): Promise<number> {
  mode(how);
  positive('limit', limit);
  const pick = `SELECT m.position FROM ordo_messages m, (SELECT tx_id, position FROM ordo_checkpoints ORDER BY tx_id, position LIMIT 1) h
    WHERE m.created_at < $1 AND (m.tx_id, m.position) <= (h.tx_id, h.position) ORDER BY m.tx_id, m.position LIMIT $2`;
  const r =
    how === 'archive'
      ? await tx.query(
          `WITH moved AS (DELETE FROM ordo_messages WHERE position IN (${pick}) RETURNING position, tx_id, stream, stream_version, id, type, data, metadata, created_at)
           INSERT INTO ordo_messages_archive (position, tx_id, stream, stream_version, id, type, data, metadata, created_at) SELECT * FROM moved`,
          [olderThan, limit],
        )
      : await tx.query(`DELETE FROM ordo_messages WHERE position IN (${pick})`, [olderThan, limit]);
  return r.rowCount;
}

/**
 * Forgets inbox entries handled before `olderThan`, up to `limit` per call. Safe once no
 * transport can deliver those messages again: keep them longer than the longest
 * redelivery (ack wait, consumer downtime, a replayed topic).
 */
export async function pruneInbox(tx: Queryable, olderThan: Date, limit: number): Promise<number> {
  positive('limit', limit);
  const r = await tx.query(
    'DELETE FROM ordo_inbox WHERE (consumer, message_id) IN (SELECT consumer, message_id FROM ordo_inbox WHERE handled_at < $1 ORDER BY handled_at LIMIT $2)',
    [olderThan, limit],
  );
  return r.rowCount;
}

function positive(field: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidStoreInputError(field, `must be a positive integer, got ${String(n)}`);
}

/** A stream that retention archived, in stream order (empty when it was not archived). */
export async function readArchivedStream(q: Queryable, stream: string): Promise<StoredMessage[]> {
  if (typeof stream !== 'string' || stream.length === 0) throw new InvalidStoreInputError('stream', 'must be a non-empty string');
  const r = await q.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ordo_messages_archive m WHERE m.stream = $1 ORDER BY m.stream_version`, [stream]);
  return r.rows.map(toStoredMessage);
}
