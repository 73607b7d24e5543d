import type { Db } from '../store/index.js';
import { OrdoError } from '../machine/index.js';
import { insertDeadLetter } from './instance-sql.js';
import { recordInboxMany } from '../store/index.js';
import type { WorkItem, WorkResult } from './work-item.js';

/**
 * An error that one input's data can cause — PostgreSQL's data exceptions (class 22, e.g.
 * a `\u0000` that jsonb refuses), program limits (54), a value JSON cannot hold — as
 * opposed to a conflict or an outage, which no input is to blame for.
 */
export function isDataError(err: unknown): boolean {
  if (err instanceof OrdoError) return false;
  if (err instanceof TypeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

/** The message as jsonb can hold it: a NUL character is kept as the text `\u0000`. */
export function storableMessage(message: unknown): unknown {
  const json = JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return JSON.parse(json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\\\u0000')) as unknown;
}

/**
 * Runs a batch; when it fails because of one input's data, runs each half again on its own
 * (in order), down to the input to blame: a message is dead-lettered (and marked in the
 * inbox) in a transaction of its own, anything else is rejected to its caller. One bad
 * message no longer fails its batchmates on every retry.
 */
export function isolatingBadInputs(db: Db, consumer: string, run: (items: readonly WorkItem[]) => Promise<WorkResult[]>, onDeadLetter?: (code: string) => void) {
  const isolate = async (items: readonly WorkItem[]): Promise<WorkResult[]> => {
    try {
      return await run(items);
    } catch (err) {
      if (!isDataError(err)) throw err;
      const [only] = items;
      if (items.length === 1 && only) return [await blame(only, err)];
      const mid = Math.ceil(items.length / 2);
      return [...(await isolate(items.slice(0, mid))), ...(await isolate(items.slice(mid)))];
    }
  };
  const blame = async (item: WorkItem, err: unknown): Promise<WorkResult> => {
    const error = err instanceof Error ? err : new Error(String(err));
    if (item.kind !== 'message') return { status: 'rejected', error };
    const m = item.message;
    const code = `DATA_ERROR${typeof (err as { code?: unknown }).code === 'string' ? `_${String((err as { code: string }).code)}` : ''}`;
    const reason = `the batch could not be written with this message in it: ${error.message}`;
    const r = await db.transaction(async (tx): Promise<WorkResult> => {
      const fresh = await recordInboxMany(tx, consumer, [m.id]);
      if (!fresh.has(m.id)) return { status: 'duplicate', messageId: m.id };
      const deadLetterId = await insertDeadLetter(tx, { messageId: m.id, sagaId: m.key, message: storableMessage(m), code, reason });
      return { status: 'dead-lettered', messageId: m.id, deadLetterId, code, reason };
    });
    if (r.status === 'dead-lettered') onDeadLetter?.(code);
    return r;
  };
  return isolate;
}
