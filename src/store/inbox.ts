import type { Db, Queryable, ReadingStatement, Statement } from './db.js';
import { InvalidStoreInputError } from './errors.js';
import { preparedStatement } from './prepared.js';

/**
 * Records that `consumer` handled `messageId`, in the handler's transaction. Returns true
 * the first time and false for a duplicate; a concurrent duplicate waits for the first
 * to commit (or roll back) and then gets the right answer.
 */
export async function recordInbox(tx: Queryable, consumer: string, messageId: string): Promise<boolean> {
  if (typeof consumer !== 'string' || consumer.length === 0) throw new InvalidStoreInputError('consumer', 'must be a non-empty string');
  if (typeof messageId !== 'string' || messageId.length === 0) throw new InvalidStoreInputError('messageId', 'must be a non-empty string');
  const r = await tx.query(preparedStatement('INSERT INTO ordo_inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS inserted'), [
    consumer,
    messageId,
  ]);
  return r.rows.length === 1;
}

/**
 * Whether `consumer` has recorded `messageId`: lets a consumer skip a redelivery before it
 * calls the outside world. A hint only, since a concurrent copy may commit right after;
 * `recordInbox` in the handler's transaction stays the guard.
 */
export async function inboxContains(q: Queryable, consumer: string, messageId: string): Promise<boolean> {
  if (typeof consumer !== 'string' || consumer.length === 0) throw new InvalidStoreInputError('consumer', 'must be a non-empty string');
  if (typeof messageId !== 'string' || messageId.length === 0) throw new InvalidStoreInputError('messageId', 'must be a non-empty string');
  const r = await q.query(preparedStatement('SELECT 1 FROM ordo_inbox WHERE consumer = $1 AND message_id = $2'), [consumer, messageId]);
  return r.rows.length > 0;
}

/**
 * `recordInbox` for many message ids in one statement; returns the ids seen for the first
 * time. Rows go in in id order, so two transactions recording overlapping ids wait for
 * each other instead of deadlocking.
 */
export async function recordInboxMany(tx: Queryable, consumer: string, messageIds: readonly string[]): Promise<Set<string>> {
  const s = recordInboxStatement(consumer, messageIds);
  if (!s) return new Set();
  return s.read(await tx.query(s.statement.sql, s.statement.params));
}

const RECORD_MANY_SQL = preparedStatement('INSERT INTO ordo_inbox (consumer, message_id) SELECT $1::text, m FROM unnest($2::text[]) AS m ORDER BY m ON CONFLICT DO NOTHING RETURNING message_id');

/** `recordInboxMany` as a statement (undefined when there are no ids). */
export function recordInboxStatement(consumer: string, messageIds: readonly string[]): ReadingStatement<Set<string>> | undefined {
  if (typeof consumer !== 'string' || consumer.length === 0) throw new InvalidStoreInputError('consumer', 'must be a non-empty string');
  if (!Array.isArray(messageIds)) throw new InvalidStoreInputError('messageIds', 'must be an array');
  messageIds.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidStoreInputError(`messageIds[${i}]`, 'must be a non-empty string');
  });
  if (messageIds.length === 0) return undefined;
  return {
    statement: {
      sql: RECORD_MANY_SQL,
      params: [consumer, messageIds],
    },
    read: (r) => new Set(r.rows.map((row) => String(row['message_id']))),
  };
}

export interface HandleOnceResult<T> {
  readonly duplicate: boolean;
  /** `fn`'s result; absent for a duplicate. */
  readonly result?: T;
}

/**
 * Runs `fn` in one transaction with the inbox record, only the first time this consumer
 * sees this message id: a redelivery is reported as a duplicate and changes nothing.
 * If `fn` throws, nothing is recorded and the message can be handled again.
 */
export function handleOnce<T>(db: Db, consumer: string, messageId: string, fn: (tx: Queryable) => Promise<T>): Promise<HandleOnceResult<T>> {
  return db.transaction(async (tx) => {
    if (!(await recordInbox(tx, consumer, messageId))) return { duplicate: true };
    return { duplicate: false, result: await fn(tx) };
  });
}

/** The message `ordo_conflict` raises when a message id of `recordInboxAllStatement` was recorded before. */
export const INBOX_SEEN = 'ordo: a message id was recorded before';

const RECORD_ALL_SQL = preparedStatement(`WITH recorded AS (
         INSERT INTO ordo_inbox (consumer, message_id) SELECT $1::text, m FROM unnest($2::text[]) AS m ORDER BY m ON CONFLICT DO NOTHING RETURNING 1)
       SELECT CASE WHEN count(*) = cardinality($2::text[]) THEN count(*) ELSE ordo_conflict('${INBOX_SEEN}', '') END AS recorded FROM recorded`);

/**
 * Records distinct message ids that the caller expects to be new, as a statement that
 * raises (a serialization failure, `INBOX_SEEN`) when any was recorded before: for a
 * handler that applied them before asking, and must not commit if one was a duplicate.
 */
export function recordInboxAllStatement(consumer: string, messageIds: readonly string[]): Statement | undefined {
  const s = recordInboxStatement(consumer, [...new Set(messageIds)].sort());
  return s ? { sql: RECORD_ALL_SQL, params: s.statement.params } : undefined;
}
