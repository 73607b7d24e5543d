import type { Queryable, QueryResult } from './db.js';
import { InvalidStoreInputError, whenNotMigrated } from './errors.js';
import { preparedStatement } from './prepared.js';
import { MESSAGE_COLUMNS, toStoredMessage, type MessageRow, type StoredMessage } from './stored-message.js';

/** A place in the global order of the log: the writing transaction's id, then the position. */
export interface GlobalPosition {
  readonly txId: bigint;
  readonly position: bigint;
}

/** Before the first message of the log. */
export const LOG_START: GlobalPosition = Object.freeze({ txId: 0n, position: 0n });

/** Orders two global positions (negative: a before b). */
export function compareGlobalPositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.txId !== b.txId) return a.txId < b.txId ? -1 : 1;
  return a.position === b.position ? 0 : a.position < b.position ? -1 : 1;
}

/** The global position of a stored message (what a reader checkpoints after handling it). */
export function globalPositionOf(m: Pick<StoredMessage, 'txId' | 'position'>): GlobalPosition {
  return { txId: m.txId, position: m.position };
}

/*
 * Only transactions below the read horizon are read: the oldest transaction of this
 * database still running (ordo_read_horizon, store migration 6), so every transaction
 * below it has finished and none can still add rows before a position this reader has
 * passed. Positions alone are not enough, because a sequence value is taken at insert
 * time and the transaction holding a lower one may commit after a higher one was read.
 * The horizon is computed once per statement, from the statement's own snapshot. See README.md.
 */
/** The readAll page as SQL: messages after `after` (a row (tx_id, position) in SQL) below the horizon, in global order, at most `limit` (SQL). */
export function pageBelowHorizonSql(after: string, limit: string): string {
  return `SELECT ${MESSAGE_COLUMNS} FROM ordo_messages m
WHERE (m.tx_id, m.position) > ${after}
  AND m.tx_id < (SELECT ordo_read_horizon())
ORDER BY m.tx_id, m.position
LIMIT ${limit}`;
}

const READ_ALL_SQL = preparedStatement(`
${pageBelowHorizonSql('($1::text::xid8, $2::bigint)', '$3')}`);

/**
 * Up to `limit` messages strictly after `after` in global order (transaction id, then
 * position), from finished transactions only. Checkpoint the last one's
 * `globalPositionOf(m)` and pass it next time: no message is ever skipped or repeated.
 */
export function readAll(q: Queryable, after: GlobalPosition, limit: number): Promise<StoredMessage[]> {
  return readAfter(q, READ_ALL_SQL, after, limit);
}

/** The horizon once (h.x) and the page after the reader's position ($1, $2) below it, of at most $3 messages (`filter`: more conditions on m). */
const horizonAndPage = (filter: string): string => `WITH h AS MATERIALIZED (SELECT ordo_read_horizon() AS x),
page AS (
  SELECT ${MESSAGE_COLUMNS} FROM ordo_messages m
  WHERE (m.tx_id, m.position) > ($1::text::xid8, $2::bigint)
    AND m.tx_id < (SELECT x FROM h) ${filter}
  ORDER BY m.tx_id, m.position
  LIMIT $3)`;

/** The held-back marker's condition: a committed message after both the horizon (h.x) and the reader's position ($1, $2). */
const HELD_BACK_WHERE = `WHERE EXISTS (SELECT 1 FROM ordo_messages m WHERE (m.tx_id, m.position) > (
  -- after both the horizon and the reader's position: one row bound for the index scan
  CASE WHEN h.x > $1::text::xid8 THEN h.x ELSE $1::text::xid8 END,
  CASE WHEN h.x > $1::text::xid8 THEN -1::bigint ELSE $2::bigint END))`;

/*
 * readAll, and whether it was held back: a committed message after `after` that the horizon
 * keeps out (an older transaction of this database is still running). A reader woken by a
 * commit that finds its message held back looks again soon instead of waiting for the next
 * commit — the transaction holding it back may commit without appending, and wake no one.
 * The marker row (held_back true, every other column null) is not a message.
 */
const READ_NOTING_SQL = preparedStatement(`
${horizonAndPage('')}
SELECT page.*, false AS held_back FROM page
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true FROM h
${HELD_BACK_WHERE}`);

/** The message rows of a noting read as messages; a UNION ALL's rows come in no promised order, so global order is put back here. */
function inGlobalOrder(rows: readonly MessageRow[]): StoredMessage[] {
  return rows.map(toStoredMessage).sort((a, b) => compareGlobalPositions(globalPositionOf(a), globalPositionOf(b)));
}

/** `readAll`, and whether a committed message after `after` is held back by an older transaction still running. */
export async function readAllNotingHeld(q: Queryable, after: GlobalPosition, limit: number): Promise<{ messages: StoredMessage[]; heldBack: boolean }> {
  const r = await queryAfter<MessageRow & { held_back: boolean }>(q, READ_NOTING_SQL, after, limit);
  const messages = inGlobalOrder(r.rows.filter((row) => !row.held_back));
  return { messages, heldBack: r.rows.some((row) => row.held_back) };
}

/*
 * readAllNotingHeld for a reader that wants only the messages with a `topic` in their
 * metadata (an outbox relay publishes nothing else): the saga timelines and the
 * event-sourced streams stay in the database instead of being sent and parsed to be
 * dropped. Besides the page, one row says how far the read got: the newest message below
 * the horizon after `after`, whatever its metadata (read_to true, only its position set).
 * When the page is short every message with a topic up to there is in it, so the reader
 * moves there: its checkpoint passes a long run of messages without a topic (retention
 * waits for it) instead of reading them again at every look.
 */
const READ_OUTGOING_SQL = preparedStatement(`
${horizonAndPage(`AND m.metadata ? 'topic'`)},
newest AS (
  SELECT m.position::text AS position, m.tx_id::text AS tx_id FROM ordo_messages m
  WHERE (m.tx_id, m.position) > ($1::text::xid8, $2::bigint)
    AND m.tx_id < (SELECT x FROM h)
  ORDER BY m.tx_id DESC, m.position DESC
  LIMIT 1)
SELECT page.*, false AS held_back, false AS read_to FROM page
UNION ALL
SELECT newest.position, newest.tx_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, true FROM newest
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, false FROM h
${HELD_BACK_WHERE}`);

/**
 * `readAllNotingHeld` of the messages whose metadata has a `topic`, and `readTo`: where the
 * reader may move its position after handling them (past the messages without a topic the
 * read went over; the last message's position when the page is full). Undefined: nothing new.
 */
export async function readOutgoingNotingHeld(q: Queryable, after: GlobalPosition, limit: number): Promise<{ messages: StoredMessage[]; heldBack: boolean; readTo: GlobalPosition | undefined }> {
  const r = await queryAfter<MessageRow & { held_back: boolean; read_to: boolean }>(q, READ_OUTGOING_SQL, after, limit);
  const messages = inGlobalOrder(r.rows.filter((row) => !row.held_back && !row.read_to));
  const newest = r.rows.find((row) => row.read_to);
  const last = messages.at(-1);
  const readTo = last && messages.length >= limit ? globalPositionOf(last) : newest ? { txId: BigInt(newest.tx_id), position: BigInt(newest.position) } : undefined;
  return { messages, heldBack: r.rows.some((row) => row.held_back), readTo };
}

const READ_VISIBLE_SQL = `
SELECT ${MESSAGE_COLUMNS} FROM ordo_messages m
WHERE (m.tx_id, m.position) > ($1::text::xid8, $2::bigint)
ORDER BY m.tx_id, m.position
LIMIT $3`;

/**
 * `readAll` without its finished-transactions-only rule: every message this snapshot sees
 * after `after`. A transaction still open may commit messages before the last one
 * returned later, so a reader may use it only while it keeps every writer out (e.g. holds
 * a lock all writers of its messages take) — a projection rebuild's final catch-up.
 */
export function readAllVisible(q: Queryable, after: GlobalPosition, limit: number): Promise<StoredMessage[]> {
  return readAfter(q, READ_VISIBLE_SQL, after, limit);
}

/** Runs a read of the log after `after` ($1, $2) of at most `limit` ($3) messages, its arguments checked. */
function queryAfter<R extends object>(q: Queryable, sql: string, after: GlobalPosition, limit: number): Promise<QueryResult<R>> {
  if (typeof after?.txId !== 'bigint' || typeof after.position !== 'bigint' || after.txId < 0n || after.position < 0n) {
    throw new InvalidStoreInputError('after', 'must be a GlobalPosition { txId: bigint, position: bigint } (LOG_START to begin)');
  }
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidStoreInputError('limit', `must be a positive integer, got ${String(limit)}`);
  return q.query<R>(sql, [after.txId.toString(), after.position.toString(), limit]).catch((err: unknown) => {
    throw whenNotMigrated(err);
  });
}

async function readAfter(q: Queryable, sql: string, after: GlobalPosition, limit: number): Promise<StoredMessage[]> {
  const r = await queryAfter<MessageRow>(q, sql, after, limit);
  return r.rows.map(toStoredMessage);
}

/** The global position of the newest message this snapshot sees (LOG_START for an empty log): where "from now on" starts. */
export async function lastGlobalPosition(q: Queryable): Promise<GlobalPosition> {
  const r = await q
    .query<{ tx_id: string; position: string }>('SELECT m.tx_id::text AS tx_id, m.position::text AS position FROM ordo_messages m ORDER BY m.tx_id DESC, m.position DESC LIMIT 1')
    .catch((err: unknown) => {
      throw whenNotMigrated(err);
    });
  const row = r.rows[0];
  return row ? { txId: BigInt(row.tx_id), position: BigInt(row.position) } : LOG_START;
}
