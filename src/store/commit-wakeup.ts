import type { Queryable } from './db.js';
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

/** Text every statement that appends to the log contains (the store's `ordo_append` function). */
const APPENDS = 'ordo_append(';

/** Whether `sql` appends to the log. */
export const appendsToLog = (sql: string): boolean => sql.includes(APPENDS);

/** A coalescing sender of the log's notification through `send` (one autocommit statement). */
export function commitWakeup(send: (sql: string) => Promise<unknown>): { readonly committed: () => void } {
  let inFlight = false;
  let again = false;
  const committed = (): void => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    send(`NOTIFY ${LOG_CHANNEL}`)
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

/** `tx` as it is, noting whether one of its statements appended to the log (for the wake-up after the commit). */
export function noticingAppends(tx: Queryable): { readonly tx: Queryable; readonly appended: () => boolean } {
  let appended = false;
  return {
    tx: {
      query<R extends object>(sql: string, params?: readonly unknown[]) {
        if (appendsToLog(sql)) appended = true;
        return tx.query<R>(sql, params);
      },
      ...(tx.exec ? { exec: tx.exec.bind(tx) } : {}),
    },
    appended: () => appended,
  };
}
