import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/index.js';
import { createReconciler, InvalidReconcilerOptionError, type Discrepancy, type Reconciler, type ReconcilerCheck } from './reconciler.js';

// Two views of the same facts: `wanted` (say, the order's state) and `held` (a service's
// table). A check finds where they differ; its correction is idempotent (set held = wanted).
async function makeViews(db: Db, table: string): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id text PRIMARY KEY, wanted integer NOT NULL, held integer NOT NULL)`);
}

function differenceCheck(db: Db, table: string, opts: { name?: string; failFirst?: Set<string> } = {}): ReconcilerCheck {
  return {
    name: opts.name ?? `${table}-differs`,
    async find(): Promise<Discrepancy[]> {
      const r = await db.query<{ id: string; wanted: number; held: number }>(`SELECT id, wanted, held FROM ${table} WHERE wanted <> held ORDER BY id`);
      return r.rows.map((row) => ({
        key: `${table}:${row.id}`,
        subject: row.id,
        found: { wanted: row.wanted, held: row.held },
        action: 'set held to wanted',
        apply: async ({ attempt }) => {
          if (opts.failFirst?.delete(row.id)) throw new Error(`service for ${row.id} unavailable`);
          await db.query(`UPDATE ${table} SET held = wanted WHERE id = $1`, [row.id]);
          return { attempt };
        },
      }));
    },
  };
}

const engines: [string, () => Promise<FreshDatabase>][] = [
  ['pglite', () => freshPglite()],
  ['postgres', () => freshPostgres('reconciler')],
];

describe.each(engines)('reconciler on %s', (_engine, open) => {
  let fresh: FreshDatabase;
  let db: Db;
  const started: Reconciler[] = [];
  let n = 0;
  const table = () => `views_${++n}`;
  const make = async (o: Omit<Parameters<typeof createReconciler>[0], 'db'>) => {
    const r = createReconciler({ db, intervalMs: false, ...o });
    await r.start();
    started.push(r);
    return r;
  };

  beforeAll(async () => {
    fresh = await open();
    db = fresh.db;
  });
  afterAll(async () => {
    for (const r of started) await r.stop();
    await fresh?.close();
  });

  it('corrects each discrepancy once, records it, and finds nothing the next round', async () => {
    const t = table();
    await makeViews(db, t);
    await db.query(`INSERT INTO ${t} VALUES ('a', 1, 1), ('b', 2, 0), ('c', 3, 0)`);
    const seen: string[] = [];
    const r = await make({ checks: [differenceCheck(db, t)], onRecord: (x) => seen.push(`${x.key}:${x.outcome}`) });
    const first = await r.runOnce();
    expect(first).toMatchObject({ found: 2, corrected: 2, failed: 0, awaiting: 0 });
    expect((await db.query(`SELECT id FROM ${t} WHERE wanted <> held`)).rows).toEqual([]);
    expect(await r.runOnce()).toMatchObject({ found: 0, corrected: 0 });
    expect(seen.sort()).toEqual([`${t}:b:corrected`, `${t}:c:corrected`]);
    const records = await r.list({ limit: 10, check: `${t}-differs` });
    expect(records.map((x) => [x.subject, x.outcome, x.attempt, x.found, x.result])).toEqual([
      ['c', 'corrected', 1, { wanted: 3, held: 0 }, { attempt: 1 }],
      ['b', 'corrected', 1, { wanted: 2, held: 0 }, { attempt: 1 }],
    ]);
    expect((await r.stats()).rounds).toBe(2);
  });

  it('a throwing check is recorded and the other checks still run', async () => {
    const t = table();
    await makeViews(db, t);
    await db.query(`INSERT INTO ${t} VALUES ('x', 5, 4)`);
    const broken: ReconcilerCheck = { name: `${t}-broken`, find: () => Promise.reject(new Error('inventory database unreachable')) };
    const r = await make({ checks: [broken, differenceCheck(db, t)] });
    const round = await r.runOnce();
    expect(round.checks).toEqual([
      { check: `${t}-broken`, found: 0, corrected: 0, failed: 0, awaiting: 0, error: 'inventory database unreachable' },
      { check: `${t}-differs`, found: 1, corrected: 1, failed: 0, awaiting: 0 },
    ]);
    expect(await r.list({ limit: 5, check: `${t}-broken` })).toMatchObject([{ outcome: 'check-failed', error: 'inventory database unreachable', action: 'none: the check failed' }]);
    expect((await db.query<{ held: number }>(`SELECT held FROM ${t} WHERE id = 'x'`)).rows[0]?.held).toBe(5);
  });

  it('a check that never answers fails with a timeout instead of blocking the round', async () => {
    const t = table();
    await makeViews(db, t);
    await db.query(`INSERT INTO ${t} VALUES ('h', 1, 0)`);
    const hanging: ReconcilerCheck = { name: `${t}-hangs`, find: () => new Promise(() => undefined) };
    const r = await make({ checks: [hanging, differenceCheck(db, t)], timeoutMs: 100 });
    const round = await r.runOnce();
    expect(round.checks[0]?.error).toMatch(/^RECONCILER_TIMEOUT: check .*-hangs took longer than 100 ms$/);
    expect(round.checks[1]).toMatchObject({ corrected: 1 });
  });

  it('a failing correction is recorded and tried again next round', async () => {
    const t = table();
    await makeViews(db, t);
    await db.query(`INSERT INTO ${t} VALUES ('p', 7, 0)`);
    const r = await make({ checks: [differenceCheck(db, t, { failFirst: new Set(['p']) })] });
    expect(await r.runOnce()).toMatchObject({ found: 1, corrected: 0, failed: 1 });
    expect(await r.runOnce()).toMatchObject({ found: 1, corrected: 1, failed: 0 });
    expect(await r.runOnce()).toMatchObject({ found: 0 });
    const records = await r.list({ limit: 5, subject: 'p' });
    expect(records.map((x) => [x.outcome, x.attempt, x.error ?? null])).toEqual([
      ['corrected', 2, null],
      ['failed', 1, 'service for p unavailable'],
    ]);
  });

  it('a discrepancy still found right after its correction is awaited, not corrected again', async () => {
    const t = table();
    await makeViews(db, t);
    await db.query(`INSERT INTO ${t} VALUES ('s', 1, 0)`);
    // The correction is a message that has not been handled yet: the views still differ.
    const inFlight: ReconcilerCheck = { ...differenceCheck(db, t), find: async () => (await differenceCheck(db, t).find()).map((d) => ({ ...d, apply: () => Promise.resolve('sent') })) };
    const r = await make({ checks: [inFlight], settleMs: 3_600_000 });
    expect(await r.runOnce()).toMatchObject({ found: 1, corrected: 1, awaiting: 0 });
    expect(await r.runOnce()).toMatchObject({ found: 1, corrected: 0, awaiting: 1 });
    expect(await r.list({ limit: 5, subject: 's' })).toHaveLength(1);
  });

  it('of two reconcilers on one database, one runs a round at a time', async () => {
    const t = table();
    await makeViews(db, t);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slow: ReconcilerCheck = {
      name: `${t}-slow`,
      find: async () => {
        entered();
        await gate;
        return [];
      },
    };
    const a = await make({ checks: [slow], name: t });
    const b = await make({ checks: [slow], name: t });
    const first = a.runOnce();
    await inside;
    expect(await b.runOnce()).toMatchObject({ skipped: 'another process is running a round', found: 0 });
    release();
    expect((await first).skipped).toBeUndefined();
    expect((await b.runOnce()).skipped).toBeUndefined();
  });

  it('runs rounds by itself on its interval and keeps going after a failing check', async () => {
    const t = table();
    await makeViews(db, t);
    let calls = 0;
    const flaky: ReconcilerCheck = {
      name: `${t}-flaky`,
      find: () => (++calls === 1 ? Promise.reject(new Error('first round fails')) : Promise.resolve([])),
    };
    const r = await make({ checks: [flaky, differenceCheck(db, t)], intervalMs: 20 });
    await db.query(`INSERT INTO ${t} VALUES ('i', 9, 0)`);
    for (let i = 0; i < 500 && ((await r.stats()).rounds < 3 || (await db.query(`SELECT 1 FROM ${t} WHERE wanted <> held`)).rows.length > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stats = await r.stats();
    expect(stats.rounds).toBeGreaterThanOrEqual(3);
    expect((await db.query(`SELECT held FROM ${t} WHERE id = 'i'`)).rows).toEqual([{ held: 9 }]);
    await r.stop();
    const after = (await r.stats()).rounds;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await r.stats()).rounds).toBe(after);
    expect(await r.runOnce()).toMatchObject({ skipped: 'the reconciler is stopped' });
  });

  it('refuses bad options with a clear error', () => {
    expect(() => createReconciler({ db, checks: [], intervalMs: 0 })).toThrow(InvalidReconcilerOptionError);
    expect(() => createReconciler({ db, checks: [], settleMs: -1 })).toThrow('reconciler option settleMs must be a positive number of ms, got -1');
    const c: ReconcilerCheck = { name: 'same', find: () => Promise.resolve([]) };
    expect(() => createReconciler({ db, checks: [c, c] })).toThrow('reconciler option checks has two checks named same');
  });
});
