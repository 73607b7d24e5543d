import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { appendToStream, globalPositionOf, loadCheckpoint, LOG_START, migrateStore, readAll, readAfterCheckpointStatement, runStatements, saveCheckpoint, type Db } from './index.js';

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Plans?: readonly PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/**
 * A projection batch reads the messages after its checkpoint with the checkpoint read by the
 * same statement (one round trip with its lock): the same messages as readAll from the loaded
 * checkpoint, found through the global-order index at 20,000 messages, generic plan or not.
 */
describe('reading after a checkpoint in one statement (PostgreSQL server, 20,000 messages)', () => {
  let fresh: FreshDatabase;
  let db: Db;
  beforeAll(async () => {
    fresh = await freshPostgres('read_after_cp');
    db = fresh.db;
    await migrateStore(db);
    for (let s = 0; s < 20; s++) await appendToStream(db, `s-${s}`, 'any', Array.from({ length: 1000 }, (_, i) => ({ type: 'Happened', data: { i } })));
    await db.query('ANALYZE ordo_messages');
  });
  afterAll(() => fresh?.close());

  const read = async (name: string, limit: number) => {
    const s = readAfterCheckpointStatement(name, limit);
    const [r] = await runStatements(db, [s.statement]);
    return s.read(r!);
  };

  it('reads what readAll reads from the saved checkpoint, and from the start without one', async () => {
    const all = await readAll(db, LOG_START, 20_000);
    expect(all).toHaveLength(20_000);
    expect((await read('never-ran', 5)).map((m) => m.id)).toEqual(all.slice(0, 5).map((m) => m.id));
    await saveCheckpoint(db, 'halfway', globalPositionOf(all[12_345]!));
    const from = await loadCheckpoint(db, 'halfway');
    expect((await read('halfway', 100)).map((m) => m.id)).toEqual((await readAll(db, from, 100)).map((m) => m.id));
    expect((await read('halfway', 100))[0]?.id).toBe(all[12_346]?.id);
    expect(() => readAfterCheckpointStatement('halfway', 0)).toThrow(/limit/);
  });

  it('finds them through the global-order index, planned for the values and generic alike', async () => {
    const { sql } = readAfterCheckpointStatement('halfway', 100).statement;
    const custom = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, ['halfway', 100]);
    const generic = await db.transaction(async (tx) => {
      await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
      await tx.query(`PREPARE read_after_cp_plan(text, integer) AS ${sql}`);
      const r = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE read_after_cp_plan('halfway', 100)`);
      await tx.query('DEALLOCATE read_after_cp_plan');
      return r;
    });
    for (const r of [custom, generic]) {
      const scans = nodes(r.rows[0]!['QUERY PLAN'][0].Plan).filter((n) => n['Relation Name'] === 'ordo_messages');
      expect(scans.map((n) => n['Node Type'])).toEqual(['Index Scan']);
      // Starting at the checkpoint, not walking the index from the log's start.
      expect(scans[0]?.['Index Cond']).toMatch(/tx_id.*position/);
    }
  });
});
