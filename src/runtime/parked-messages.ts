import { preparedStatement, type Queryable, type ReadingStatement, type Statement } from '../store/index.js';
import type { IncomingMessage } from './work-item.js';

/*
 * Messages that arrived too early — before their saga exists, or in a state that cannot
 * take them yet — are parked, not dead-lettered: their inbox entry is not kept (so a
 * redelivery is not dropped as a duplicate) and the engine tries them again when the saga
 * changes state, and on a backoff from the poller. Past `parkedTtlMs` they become dead letters.
 */

export interface ParkedRow {
  readonly id: string;
  readonly message_id: string;
  readonly saga_id: string;
  readonly message: IncomingMessage;
  readonly error_code: string;
  readonly reason: string;
  readonly attempts: number;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

export function nextParkedRetry(now: number, attempts: number): number {
  return now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(16, Math.max(0, attempts - 1)));
}

const PARKED_COLUMNS = 'id::text AS id, message_id, saga_id, message, error_code, reason, attempts';
const parkedRow = (row: Record<string, unknown>): ParkedRow => ({ ...(row as unknown as ParkedRow), attempts: Number(row['attempts']) });

/** Parks a message (again: one more attempt); returns its row. */
export async function parkMessage(tx: Queryable, p: { message: IncomingMessage; code: string; reason: string; now: number }): Promise<ParkedRow> {
  const r = await tx.query(
    `INSERT INTO ordo_parked_messages (message_id, saga_id, message, error_code, reason, parked_at, next_retry_at) VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7)
     ON CONFLICT (message_id) DO UPDATE SET attempts = ordo_parked_messages.attempts + 1, error_code = excluded.error_code, reason = excluded.reason
     RETURNING ${PARKED_COLUMNS}`,
    [p.message.id, p.message.key, JSON.stringify(p.message), p.code, p.reason, String(p.now), String(nextParkedRetry(p.now, 1))],
  );
  return parkedRow(r.rows[0] ?? {});
}

/** The parked messages of these sagas, oldest first, locked for this transaction (undefined when there are no sagas). */
const LOAD_PARKED_SQL = preparedStatement(`SELECT ${PARKED_COLUMNS} FROM ordo_parked_messages WHERE saga_id = ANY($1::text[]) ORDER BY id FOR UPDATE`);

export function loadParkedStatement(sagaIds: readonly string[]): ReadingStatement<ParkedRow[]> | undefined {
  if (sagaIds.length === 0) return undefined;
  return {
    statement: { sql: LOAD_PARKED_SQL, params: [[...sagaIds]] },
    read: (r) => r.rows.map(parkedRow),
  };
}

/** The message `ordo_conflict` raises when `noneParkedStatement` finds parked messages. */
export const PARKED_WAITING = 'ordo: parked messages wait for these sagas';

const NONE_PARKED_SQL = preparedStatement(
  `SELECT CASE WHEN EXISTS (SELECT 1 FROM ordo_parked_messages WHERE saga_id = ANY($1::text[])) THEN ordo_conflict('${PARKED_WAITING}', '') ELSE 0 END AS parked`,
);

/** A statement that raises when any of these sagas has parked messages: for a batch that did not load them. */
export function noneParkedStatement(sagaIds: readonly string[]): Statement | undefined {
  return sagaIds.length === 0 ? undefined : { sql: NONE_PARKED_SQL, params: [[...sagaIds]] };
}

export async function deleteParked(tx: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await tx.query('DELETE FROM ordo_parked_messages WHERE id = ANY($1::bigint[])', [[...ids]]);
}

/** Still not acceptable after a retry the poller asked for: back off. */
export async function postponeParked(tx: Queryable, rows: readonly ParkedRow[], now: number): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE ordo_parked_messages AS p SET attempts = p.attempts + 1, next_retry_at = v.next FROM unnest($1::bigint[], $2::bigint[]) AS v(id, next) WHERE p.id = v.id`,
    [rows.map((r) => r.id), rows.map((r) => String(nextParkedRetry(now, r.attempts + 1)))],
  );
}

/** Sagas (that exist) with a parked message due for a retry. */
/*
 * What a poll of the engine has to do, in one statement outside any transaction: whether a
 * timer is due, a parked message due to be tried again, or one parked for longer than its
 * time to live. Each is the first entry of an index (min), whatever the plan: an idle
 * engine's poll is this one round trip instead of three transactions (five round trips).
 */
const DUE_WORK_SQL = preparedStatement(`SELECT
  coalesce((SELECT min(due_at) FROM ordo_saga_timers) <= $1::bigint, false) AS timers,
  coalesce((SELECT min(next_retry_at) FROM ordo_parked_messages) <= $1::bigint, false) AS retries,
  coalesce((SELECT min(parked_at) FROM ordo_parked_messages) <= $2::bigint, false) AS expired`);

export interface DueWork {
  readonly timers: boolean;
  readonly retries: boolean;
  readonly expired: boolean;
}

/** Whether timers are due at `now`, parked messages due for a retry, or parked since before `parkedBefore`. */
export async function dueWork(q: Queryable, now: number, parkedBefore: number): Promise<DueWork> {
  const r = await q.query<{ timers: boolean; retries: boolean; expired: boolean }>(DUE_WORK_SQL, [String(now), String(parkedBefore)]);
  const row = r.rows[0];
  return { timers: row?.timers === true, retries: row?.retries === true, expired: row?.expired === true };
}

export async function sagasWithDueParked(q: Queryable, now: number, limit: number): Promise<string[]> {
  const r = await q.query<{ saga_id: string }>(
    `SELECT DISTINCT p.saga_id FROM ordo_parked_messages p JOIN ordo_saga_instances i ON i.id = p.saga_id WHERE p.next_retry_at <= $1 LIMIT $2`,
    [String(now), limit],
  );
  return r.rows.map((row) => row.saga_id);
}

/** Removes the messages parked since before `parkedBefore` and returns them (they become dead letters). */
export async function takeExpiredParked(tx: Queryable, parkedBefore: number, limit: number): Promise<ParkedRow[]> {
  const r = await tx.query<ParkedRow>(
    `DELETE FROM ordo_parked_messages WHERE id IN (SELECT id FROM ordo_parked_messages WHERE parked_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id::text AS id, message_id, saga_id, message, error_code, reason, attempts`,
    [String(parkedBefore), limit],
  );
  return r.rows.map((row) => ({ ...row, attempts: Number(row.attempts) }));
}
