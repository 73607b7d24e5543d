import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../store/index.js';
import { migrateStore } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { onceTx } from './once-tx.js';
import { serviceBatcher } from './service-batch.js';
import { stagingTx, write } from './staged-writes.js';

/** Counts what reaches the transaction: one call = one round trip on a server (a script is one call). */
function counting(tx: Queryable): { tx: Queryable; calls: () => number } {
  let n = 0;
  return {
    tx: {
      query: (sql, params) => (n++, tx.query(sql, params)),
      ...(tx.exec ? { exec: (sql: string) => (n++, tx.exec!(sql)) } : {}),
      ...(tx.batch ? { batch: (s: Parameters<NonNullable<Queryable['batch']>>[0], o?: { readonly commit?: boolean }) => (n++, tx.batch!(s, o)) } : {}),
    },
    calls: () => n,
  };
}

const rows = async (db: Db): Promise<string[]> => (await db.query<{ id: string }>('SELECT id FROM staged_rows ORDER BY id')).rows.map((r) => r.id);

describe.each(bothEngines('oncetx'))('staged writes and the inbox on %s', (engine, open) => {
  let db: Db;
  databaseForSuite(
    open,
    async (d) => {
      await migrateStore(d);
      await d.exec?.('CREATE TABLE staged_rows (id text PRIMARY KEY, v integer NOT NULL)');
    },
    (d) => (db = d),
  );

  it('a read sees the writes staged before it; the last writes go with the COMMIT', async () => {
    const seen = await db.transaction(async (raw) => {
      const c = counting(raw);
      const tx = stagingTx(c.tx);
      await write(tx, 'INSERT INTO staged_rows (id, v) VALUES ($1, $2)', ['r1', 1]);
      await write(tx, 'UPDATE staged_rows SET v = v + 1 WHERE id = $1', ['r1']);
      const v = (await tx.query<{ v: number }>('SELECT v FROM staged_rows WHERE id = $1', ['r1'])).rows[0]?.v;
      await write(tx, 'INSERT INTO staged_rows (id, v) VALUES ($1, $2)', ['r2', v ?? 0]);
      expect(tx.pending).toBe(1);
      await tx.flush({ commit: true });
      return { v, calls: c.calls() };
    });
    expect(seen.v).toBe(2);
    expect(await rows(db)).toEqual(['r1', 'r2']);
    // On the server: two round trips (writes + read, writes + COMMIT); PGlite runs statements one by one.
    if (engine === 'postgres') expect(seen.calls).toBe(2);
  });

  it('a duplicate message changes nothing, even when its handler writes before it reads', async () => {
    const handle = (id: string, value: number) => async (tx: Queryable) => {
      await write(tx, 'INSERT INTO staged_rows (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = staged_rows.v + EXCLUDED.v', [id, value]);
      await tx.query('SELECT 1');
    };
    const batcher = serviceBatcher(db);
    const run = (messageId: string, id: string, value: number) =>
      batcher.submit(async (tx) => {
        const job = onceTx(tx, 'staged-test', messageId);
        try {
          await handle(id, value)(job.tx);
          return await job.fresh();
        } catch (err) {
          if (job.duplicate()) return false;
          throw err;
        }
      });
    expect(await run('m1', 'd1', 5)).toBe(true);
    // Again, alone and in a batch with a new message: the copy is dropped, its batch-mate commits.
    expect(await run('m1', 'd1', 5)).toBe(false);
    expect(await Promise.all([run('m1', 'd1', 5), run('m2', 'd2', 7)])).toEqual([false, true]);
    const r = await db.query<{ id: string; v: number }>('SELECT id, v FROM staged_rows WHERE id IN ($1, $2) ORDER BY id', ['d1', 'd2']);
    expect(r.rows).toEqual([
      { id: 'd1', v: 5 },
      { id: 'd2', v: 7 },
    ]);
  });

  it('a batch-mate reads the rows its predecessor staged', async () => {
    const batcher = serviceBatcher(db);
    const [, second] = await Promise.all([
      batcher.submit(async (tx) => write(tx, 'INSERT INTO staged_rows (id, v) VALUES ($1, $2)', ['p1', 41])),
      batcher.submit(async (tx) => (await tx.query<{ v: number }>('SELECT v FROM staged_rows WHERE id = $1', ['p1'])).rows[0]?.v),
    ]);
    expect(second).toBe(41);
  });
});
