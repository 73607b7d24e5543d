import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { serviceBatcher, type BatchJob, type ServiceBatcher } from './service-batch.js';
import { stagingTx } from './staged-writes.js';

/** A job as a service handler is: one message's row, in the shared transaction; `bad` fails as a message with bad data would. */
const job =
  (id: string, bad = false): BatchJob<string> =>
  async (tx: Queryable) => {
    const r = await tx.query<{ xid: string }>('INSERT INTO batch_rows (id, v) VALUES ($1, $2) RETURNING pg_current_xact_id()::text AS xid', [id, bad ? -1 : 1]);
    return r.rows[0]?.xid as string;
  };

/** Submits `ids` in one turn (as a transport hands over a burst) and reports who committed and who failed. */
async function burst(batcher: Pick<ServiceBatcher, 'submit'>, db: Db, ids: readonly string[], bad: ReadonlySet<string> = new Set()) {
  const settled = await Promise.allSettled(ids.map((id) => batcher.submit(job(id, bad.has(id)))));
  const rows = (await db.query<{ id: string }>('SELECT id FROM batch_rows WHERE id = ANY($1::text[]) ORDER BY id', [[...ids]])).rows.map((r) => r.id);
  return { settled, rows, xids: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])) };
}

/** Broken variant: one transaction for the burst and nothing else — one bad message fails its batch-mates. */
function withoutIsolation(db: Db): Pick<ServiceBatcher, 'submit'> {
  let queue: { job: BatchJob<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  return {
    submit<T>(j: BatchJob<T>) {
      const p = new Promise<T>((resolve, reject) => queue.push({ job: j, resolve: resolve as (v: unknown) => void, reject }));
      if (queue.length === 1)
        setImmediate(() => {
          const batch = queue;
          queue = [];
          db.transaction(async (tx) => {
            const out: unknown[] = [];
            const staged = stagingTx(tx);
            for (const q of batch) out.push(await q.job(staged));
            await staged.flush({ commit: true });
            return out;
          }).then(
            (out) => batch.forEach((q, i) => q.resolve(out[i])),
            (err: unknown) => batch.forEach((q) => q.reject(err)),
          );
        });
      return p;
    },
  };
}

describe.each(bothEngines('svcbatch'))('service group commit on %s', (_engine, open) => {
  let db: Db;
  databaseForSuite(open, (d) => d.exec?.('CREATE TABLE batch_rows (id text PRIMARY KEY, v integer NOT NULL CHECK (v > 0))') ?? Promise.resolve(), (d) => (db = d));

  it('commits the messages handed over together in one transaction, and resolves each after it', async () => {
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const r = await burst(serviceBatcher(db), db, ids);
    expect(r.settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(r.rows).toEqual(ids);
    expect(new Set(r.xids).size).toBe(1);
  });

  it('one bad message fails alone: its batch-mates commit, once each', async () => {
    const ids = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const r = await burst(serviceBatcher(db), db, ids, new Set(['b3']));
    expect(r.settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(r.rows).toEqual(['b1', 'b2', 'b4', 'b5']);
  });

  it('the check catches a batch without isolation (it fails every batch-mate of a bad message)', async () => {
    const r = await burst(withoutIsolation(db), db, ['c1', 'c2', 'c3'], new Set(['c2']));
    expect(r.settled.filter((s) => s.status === 'rejected')).toHaveLength(3);
    expect(r.rows).toEqual([]);
  });

  it('with maxBatch 1 every message has a transaction of its own, as before', async () => {
    const r = await burst(serviceBatcher(db, { maxBatch: 1, concurrency: 4 }), db, ['d1', 'd2', 'd3', 'd4']);
    expect(r.rows).toEqual(['d1', 'd2', 'd3', 'd4']);
    expect(new Set(r.xids).size).toBe(4);
  });

  it('splits a burst larger than maxBatch into several transactions, and drain() waits for them', async () => {
    const batcher = serviceBatcher(db, { maxBatch: 2 });
    const pending = ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => batcher.submit(job(id)));
    await batcher.drain();
    const xids = await Promise.all(pending);
    expect(new Set(xids).size).toBe(3);
  });

  it('rejects options that are not positive integers', () => {
    expect(() => serviceBatcher(db, { maxBatch: 0 })).toThrow(RangeError);
    expect(() => serviceBatcher(db, { concurrency: 1.5 })).toThrow(/positive integer/);
  });
});
