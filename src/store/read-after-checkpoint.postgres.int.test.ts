import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { customPlan, genericPlan } from '../testing/query-plan.js';
import { appendToStream, globalPositionOf, loadCheckpoint, LOG_START, migrateStore, readAll, readAfterCheckpointStatement, runStatements, saveCheckpoint, type Db } from './index.js';

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
    const custom = await customPlan(db, sql, ['halfway', 100]);
    const generic = await genericPlan(db, sql, ['text', 'integer'], ["'halfway'", '100']);
    for (const plan of [custom, generic]) {
      const scans = plan.filter((n) => n['Relation Name'] === 'ordo_messages');
      expect(scans.map((n) => n['Node Type'])).toEqual(['Index Scan']);
      // Starting at the checkpoint, not walking the index from the log's start.
      expect(scans[0]?.['Index Cond']).toMatch(/tx_id.*position/);
    }
  });
});
