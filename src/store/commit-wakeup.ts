import type { Queryable, Statement } from './db.js';
import { runStatements } from './statement-script.js';
import { LOG_CHANNEL } from './store-migrations.js';

/*
 * Wakes the log's listeners (outbox relays in any process, LISTEN) after a commit that
 * appended to the log. The notification is sent after the commit, on its own, never inside
 * the writer's transaction: a NOTIFY in a transaction takes the server's notify-queue lock
 * at commit and holds it through the WAL flush, which made every appending commit on the
 * server wait for the one before (migration 9). At most one notification is in flight per
 * Db; commits meanwhile are folded into one more after it, so a burst of commits costs two.
 * Best effort like LISTEN itself: a lost notification only delays a reader to its poll.
 */

/** Text every statement that appends to the log contains: the store's `ordo_append` function, or its set-based insert (append-set.ts). */
const APPENDS = /ordo_append\(|INSERT INTO ordo_messages \(/;

/** Whether `sql` appends to the log. */
export const appendsToLog = (sql: string): boolean => APPENDS.test(sql);

/** The log's notification as a statement, its payload `sender` when given. */
export function logNotification(sender?: string): string {
  if (sender !== undefined && !/^[A-Za-z0-9_-]+$/.test(sender)) throw new Error(`not a notification sender name: ${sender}`);
  return sender === undefined ? `NOTIFY ${LOG_CHANNEL}` : `NOTIFY ${LOG_CHANNEL}, '${sender}'`;
}

/**
 * A coalescing sender of the log's notification through `send` (one autocommit statement),
 * its payload `sender` when given (a listener of the same Db skips it: it was woken in-process).
 */
export function commitWakeup(send: (sql: string) => Promise<unknown>, sender?: string): { readonly committed: () => void } {
  const notify = logNotification(sender);
  let inFlight = false;
  let again = false;
  const committed = (): void => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    send(notify)
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
        if (again) {
          again = false;
          committed();
        }
      });
  };
  return { committed };
}

/**
 * `tx` as it is, noting whether one of its statements appended to the log (for the wake-up
 * after the commit), and refusing statements after a batch that committed the transaction.
 * A `tx` without `batch` gets one that runs the statements one by one (its commit is then
 * the transaction's own, when the function returns).
 */
export function noticingAppends(tx: Queryable): { readonly tx: Queryable; readonly appended: () => boolean; readonly committed: () => boolean } {
  let appended = false;
  let committed = false;
  const open = (): void => {
    if (committed) throw new Error('this transaction was committed by its last batch: nothing more can run in it');
  };
  return {
    tx: {
      async query<R extends object>(sql: string, params?: readonly unknown[]) {
        open();
        if (appendsToLog(sql)) appended = true;
        return tx.query<R>(sql, params);
      },
      ...(tx.exec ? { exec: async (sql: string) => (open(), tx.exec?.(sql)) } : {}),
      async batch(statements: readonly Statement[], options?: { readonly commit?: boolean }) {
        open();
        if (statements.some((s) => appendsToLog(s.sql))) appended = true;
        const results = await runStatements(tx, statements, options);
        if (options?.commit) committed = true;
        return results;
      },
    },
    appended: () => appended,
    committed: () => committed,
  };
}

/**
 * Runs a transaction's function for an engine that commits when it returns (PGlite): an
 * error thrown after a batch committed the transaction comes back as a value, so the engine
 * commits what that batch committed — as the server, where the batch's COMMIT ran — and the
 * caller rethrows it afterwards.
 */
export async function settledAfterCommit<T>(committed: () => boolean, fn: () => Promise<T>): Promise<{ readonly value: T } | { readonly error: unknown }> {
  try {
    return { value: await fn() };
  } catch (error) {
    if (committed()) return { error };
    throw error;
  }
}

/** The value of `settledAfterCommit`, or its error thrown. */
export function unsettle<T>(r: { readonly value: T } | { readonly error: unknown }): T {
  if ('error' in r) throw r.error;
  return r.value;
}
