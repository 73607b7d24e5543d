import { randomUUID } from 'node:crypto';
import type { Queryable } from './db.js';
import { DuplicateMessageIdError, ExpectedVersionConflictError, InvalidStoreInputError, whenNotMigrated, type ExpectedVersion } from './errors.js';
import type { NewMessage } from './stored-message.js';

export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` next time. */
  readonly nextExpectedVersion: number;
  readonly positions: bigint[];
}

/*
 * One call of the `ordo_append` function (store-migrations.ts v4): it reads the stream's
 * last version and writing transaction, checks both, and inserts every message. Two
 * appends racing for the same version both pass the check, and the unique
 * (stream, stream_version) index makes the second fail (translated below).
 *
 * The transaction-order check keeps a stream's messages in the same order in the global
 * order (tx_id, position) as in the stream: a transaction that got its id before the
 * stream's last writer must not append after it. See ExpectedVersionConflictError.
 */
const APPEND_SQL = 'SELECT version, in_order, positions FROM ordo_append($1, $2, $3::text::jsonb)';

const MAX_STREAM_LENGTH = 500;

/**
 * Appends messages to a stream if it holds exactly `expectedVersion` messages
 * (`'no_stream'` = 0, `'any'` = no check). Pass the handler's transaction so the messages
 * commit with its other writes (the outbox). Throws ExpectedVersionConflictError
 * (retryable) on a mismatch or a lost race, DuplicateMessageIdError on a reused id.
 */
export async function appendToStream(
  tx: Queryable,
  stream: string,
  expectedVersion: ExpectedVersion,
  messages: readonly NewMessage[],
): Promise<AppendResult> {
  checkStream(stream);
  const expected = expectedNumber(expectedVersion);
  const payload = encode(messages);
  if (messages.length === 0) {
    const current = await streamVersion(tx, stream);
    if (expected !== null && current !== expected) throw new ExpectedVersionConflictError(stream, expectedVersion, current);
    return { nextExpectedVersion: current, positions: [] };
  }
  let row: { version: number; in_order: boolean; positions: string | null } | undefined;
  try {
    const r = await tx.query<{ version: number; in_order: boolean; positions: string | null }>(APPEND_SQL, [stream, expected, payload.json]);
    row = r.rows[0];
  } catch (err) {
    throw translate(err, stream, expectedVersion, payload.ids);
  }
  if (!row) throw new Error('ordo_append returned no row'); // unreachable: it always returns one
  const version = Number(row.version);
  if (!row.in_order) throw new ExpectedVersionConflictError(stream, expectedVersion, version, 'transaction-order');
  if (row.positions === null) throw new ExpectedVersionConflictError(stream, expectedVersion, version);
  return { nextExpectedVersion: version + messages.length, positions: row.positions.split(',').map((p) => BigInt(p)) };
}

/** The number of messages in a stream (0 when it does not exist). */
export async function streamVersion(q: Queryable, stream: string): Promise<number> {
  checkStream(stream);
  const r = await q.query<{ v: number }>('SELECT coalesce(max(stream_version), 0) AS v FROM ordo_messages WHERE stream = $1', [stream]);
  return Number(r.rows[0]?.v ?? 0);
}

function checkStream(stream: string): void {
  if (typeof stream !== 'string' || stream.length === 0) throw new InvalidStoreInputError('stream', 'must be a non-empty string');
  if (stream.length > MAX_STREAM_LENGTH) throw new InvalidStoreInputError('stream', `must be at most ${MAX_STREAM_LENGTH} characters`);
}

function expectedNumber(e: ExpectedVersion): number | null {
  if (e === 'any') return null;
  if (e === 'no_stream') return 0;
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e > 2 ** 31 - 1) {
    throw new InvalidStoreInputError('expectedVersion', `must be a non-negative integer, 'any' or 'no_stream', got ${String(e)}`);
  }
  return e;
}

function encode(messages: readonly NewMessage[]): { json: string; ids: string[] } {
  if (!Array.isArray(messages)) throw new InvalidStoreInputError('messages', 'must be an array');
  const ids = new Set<string>();
  const rows = messages.map((m: NewMessage, i) => {
    const at = `messages[${i}]`;
    if (typeof m !== 'object' || m === null) throw new InvalidStoreInputError(at, 'must be an object');
    if (typeof m.type !== 'string' || m.type.length === 0) throw new InvalidStoreInputError(`${at}.type`, 'must be a non-empty string');
    if (m.id !== undefined && (typeof m.id !== 'string' || m.id.length === 0)) throw new InvalidStoreInputError(`${at}.id`, 'must be a non-empty string when given');
    if (m.metadata !== undefined && (typeof m.metadata !== 'object' || m.metadata === null || Array.isArray(m.metadata))) {
      throw new InvalidStoreInputError(`${at}.metadata`, 'must be a plain object when given');
    }
    const id = m.id ?? randomUUID();
    if (ids.has(id)) throw new InvalidStoreInputError(`${at}.id`, `${id} appears twice in one append`);
    ids.add(id);
    return { id, type: m.type, data: m.data ?? null, metadata: m.metadata ?? {} };
  });
  try {
    return { json: JSON.stringify(rows), ids: [...ids] };
  } catch (err) {
    throw new InvalidStoreInputError('messages', `cannot be stored as JSON: ${(err as Error).message}`);
  }
}

function translate(err: unknown, stream: string, expected: ExpectedVersion, ids: string[]): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code !== '23505') return whenNotMigrated(err);
  if (e.constraint === 'ordo_messages_id_key') return new DuplicateMessageIdError(stream, ids);
  if (e.constraint === 'ordo_messages_stream_version_key') return new ExpectedVersionConflictError(stream, expected, null);
  return err;
}
