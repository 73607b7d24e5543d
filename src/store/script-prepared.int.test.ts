import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { openSharedPglite } from './pglite-shared.js';
import { preparedName, preparedStatement } from './prepared.js';
import { runStatements } from './statement-script.js';

const UPSERT = preparedStatement(`INSERT INTO t_script (k, v) SELECT * FROM unnest($1::text[], $2::integer[]) ON CONFLICT (k) DO UPDATE SET v = t_script.v + excluded.v RETURNING k, v`);

/** A schema's database in a shared PGlite cluster (the embedded shop's), under `owner`. */
async function sharedPglite(owner: string): Promise<FreshDatabase> {
  const cluster = await openSharedPglite();
  const db = await cluster.open(owner);
  return { db, close: () => cluster.close() };
}

/*
 * A marked statement in a batch script is PREPAREd once per connection (PGlite: its one
 * session, under names of the schema's own where several share it) and run as EXECUTE:
 * planned once, not at every script (the server's planning was as costly as running an
 * engine batch's writes; on PGlite, parsing and planning in WASM were most of the embedded
 * shop's CPU).
 */
describe.each([
  ['the PostgreSQL server', () => freshPostgres('script_prepared', 1), '_s'], // one connection: every batch runs on it
  ['PGlite', freshPglite, '_s'],
  ['a shared PGlite cluster', () => sharedPglite('svc_a'), '_svc_a'],
] as const)('marked statements in batch scripts on %s', (_engine, open, suffix) => {
  let fresh: FreshDatabase;
  const UNPREPARABLE = preparedStatement('SELECT $1 IS NULL AS missing'); // PREPARE cannot type $1; inlined, the literal is fine
  const scriptName = (sql: string) => `${preparedName(sql)}${suffix}`;

  beforeAll(async () => {
    fresh = await open();
    await fresh.db.query('CREATE TABLE t_script (k text PRIMARY KEY, v integer NOT NULL)');
  });
  afterAll(async () => fresh?.close());

  const prepared = async () =>
    (await fresh.db.query<{ name: string; generic: number; custom: number }>(`SELECT name, generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name LIKE 'ordo\\_%' ORDER BY name`)).rows;

  it('runs the statement as EXECUTE of one PREPARE per connection, with the same results, committing in the same script', async () => {
    for (let i = 1; i <= 8; i++) {
      const [r] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['a', 'b'], [1, 10]] }], { commit: true }));
      expect(r?.rows).toEqual([
        { k: 'a', v: i },
        { k: 'b', v: 10 * i },
      ]);
    }
    // Executed eight times from one prepared statement with its generic plan: planned once, not eight times.
    expect(await prepared()).toEqual([{ name: scriptName(UPSERT), generic: 8, custom: 0 }]);
    // The settings are back to their defaults for the rest of the transaction, and after it.
    const after = await fresh.db.transaction(async (tx) => {
      await runStatements(tx, [{ sql: UPSERT, params: [['z'], [1]] }]);
      return (await tx.query<{ mode: string; seqscan: string }>("SELECT current_setting('plan_cache_mode') AS mode, current_setting('enable_seqscan') AS seqscan")).rows[0];
    });
    expect(after).toEqual({ mode: 'auto', seqscan: 'on' });
  });

  it('a statement that cannot be prepared is inlined as before, and the transaction goes on', async () => {
    const out = await fresh.db.transaction(async (tx) => {
      await tx.query("INSERT INTO t_script (k, v) VALUES ('c', 1)"); // the transaction has begun: the PREPARE runs under a savepoint
      const [missing, upserted] = await runStatements(tx, [
        { sql: UNPREPARABLE, params: ['x'] },
        { sql: UPSERT, params: [['c'], [2]] },
      ]);
      return { missing: missing?.rows, upserted: upserted?.rows };
    });
    expect(out).toEqual({ missing: [{ missing: false }], upserted: [{ k: 'c', v: 3 }] });
    expect((await prepared()).map((p) => p.name)).toEqual([scriptName(UPSERT)]);
  });

  it('a rolled-back transaction leaves the statement prepared, and the next script runs it', async () => {
    await expect(
      fresh.db.transaction(async (tx) => {
        await runStatements(tx, [{ sql: UPSERT, params: [['d'], [1]] }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const [r] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['d'], [5]] }], { commit: true }));
    expect(r?.rows).toEqual([{ k: 'd', v: 5 }]);
    // A script that fails in the server (a parameter of the wrong type) leaves the connection usable.
    await expect(fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['e'], ['not a number']] }], { commit: true }))).rejects.toThrow(/invalid input syntax/);
    const [again] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['e'], [7]] }], { commit: true }));
    expect(again?.rows).toEqual([{ k: 'e', v: 7 }]);
  });

  it('a migration that changes a returned column\'s type fails one transaction on the connection, and the next prepares again', async () => {
    const [before] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['f'], [1]] }], { commit: true }));
    expect(before?.rows).toEqual([{ k: 'f', v: 1 }]);
    await fresh.db.query('ALTER TABLE t_script ALTER COLUMN v TYPE bigint');
    await expect(fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['f'], [1]] }], { commit: true }))).rejects.toThrow('cached plan must not change result type');
    const [after] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['f'], [1]] }], { commit: true }));
    expect(after?.rows.map((r) => ({ ...r, v: String(r['v']) }))).toEqual([{ k: 'f', v: '2' }]); // bigint: a string from node-postgres, a number from PGlite
  });

  it('a plan made while the table was new and empty finds rows by key once it has grown, not by reading them all', async () => {
    // Never analyzed, no rows: the planner takes the table for ten pages, where reading it all
    // costs less than the index. The generic plan is kept until the table's statistics change.
    await fresh.db.query('CREATE TABLE t_grown (k text PRIMARY KEY, v integer NOT NULL)');
    const update = preparedStatement('UPDATE t_grown AS t SET v = u.v FROM unnest($1::text[], $2::integer[]) AS u(k, v) WHERE t.k = u.k');
    const seqScans = 'SELECT seq_scan::int AS n FROM pg_stat_xact_user_tables WHERE relname = \'t_grown\'';
    await fresh.db.transaction((tx) => runStatements(tx, [{ sql: update, params: [['a'], [1]] }], { commit: true }));
    await fresh.db.query("INSERT INTO t_grown SELECT 'k' || g, 0 FROM generate_series(1, 5000) g");
    // The counts read are the connection's not yet reported (this transaction's and some before it): compared around the update.
    const [before, updated, after] = await fresh.db.transaction((tx) => runStatements(tx, [{ sql: seqScans, params: [] }, { sql: update, params: [['k7', 'k4000'], [7, 4000]] }, { sql: seqScans, params: [] }]));
    expect(updated?.rowCount).toBe(2);
    expect(after?.rows).toEqual(before?.rows);
    expect((await prepared()).find((p) => p.name === scriptName(update))?.generic).toBe(2); // the plan made when it was empty, kept
  });
});

describe('marked statements of two schemas in one shared PGlite session', () => {
  it('each schema prepares its own and reads its own table', async () => {
    const cluster = await openSharedPglite();
    try {
      const [a, b] = [await cluster.open('svc_a'), await cluster.open('svc_b')];
      for (const db of [a, b]) await db.query('CREATE TABLE t_script (k text PRIMARY KEY, v integer NOT NULL)');
      for (let i = 0; i < 3; i++) {
        const [ra] = await a.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['k'], [1]] }], { commit: true }));
        const [rb] = await b.transaction((tx) => runStatements(tx, [{ sql: UPSERT, params: [['k'], [100]] }], { commit: true }));
        expect([ra?.rows, rb?.rows]).toEqual([[{ k: 'k', v: i + 1 }], [{ k: 'k', v: 100 * (i + 1) }]]);
      }
      const names = (await a.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'ordo\\_%' ORDER BY name`)).rows.map((r) => r.name);
      expect(names).toEqual([`${preparedName(UPSERT)}_svc_a`, `${preparedName(UPSERT)}_svc_b`]);
    } finally {
      await cluster.close();
    }
  });
});

describe.each([
  ['PGlite', freshPglite, '_s'],
  ['a shared PGlite cluster', () => sharedPglite('svc_q'), '_svc_q'],
] as const)('a marked statement alone on %s', (_engine, open, suffix) => {
  it('runs as EXECUTE of its PREPARE in and out of a transaction, and a stale one fails once', async () => {
    const fresh = await open();
    try {
      await fresh.db.query('CREATE TABLE t_one (k text PRIMARY KEY, v integer NOT NULL)');
      await fresh.db.query("INSERT INTO t_one VALUES ('a', 1), ('b', 2)");
      const SELECT = preparedStatement('SELECT k, v FROM t_one WHERE k = ANY($1::text[]) ORDER BY k');
      expect((await fresh.db.query(SELECT, [['a', 'b']])).rows).toEqual([
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
      ]);
      expect((await fresh.db.transaction((tx) => tx.query(SELECT, [['b']]))).rows).toEqual([{ k: 'b', v: 2 }]);
      const runs = await fresh.db.query<{ runs: number }>('SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE name = $1', [`${preparedName(SELECT)}${suffix}`]);
      expect(runs.rows).toEqual([{ runs: 2 }]);
      await fresh.db.query('ALTER TABLE t_one ALTER COLUMN v TYPE bigint');
      await expect(fresh.db.query(SELECT, [['a']])).rejects.toThrow('cached plan must not change result type');
      expect((await fresh.db.query<{ v: unknown }>(SELECT, [['a']])).rows.map((r) => Number(r.v))).toEqual([1]);
    } finally {
      await fresh.close();
    }
  });
});
