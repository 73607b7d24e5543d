import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { whileHolding } from './contract-support.js';
import { appendToStream, lastGlobalPosition, migrateStore, readAll, type Db } from './index.js';

/*
 * Transaction ids are cluster-wide: before store migration 6 readAll read below
 * pg_snapshot_xmin, so a transaction open in ANY database of the server held every
 * reader of every ordo database back. These cases run on the server only (PGlite has one
 * connection, so nothing else is ever in progress).
 */
describe('read horizon on the PostgreSQL server', () => {
  let ours: FreshDatabase & { name: string; url: string };
  let other: FreshDatabase & { name: string };
  let db: Db;
  beforeAll(async () => {
    ours = await freshPostgres('horizon', 4);
    other = await freshPostgres('horizon_other', 2);
    db = ours.db;
    await migrateStore(db);
  });
  afterAll(async () => {
    await ours.close();
    await other.close();
  });

  /** `whileHolding` with this suite's database as the reader. */
  const holdingIn = (where: Db, body: (id: string) => Promise<void>): Promise<void> => whileHolding(where, body, db);

  it('a transaction running in another database does not hold readers of this one back', async () => {
    const from = await lastGlobalPosition(db);
    await holdingIn(other.db, async () => {
      await appendToStream(db, `s-${Date.now()}`, 0, [{ type: 'Here', data: null }]);
      const read = await readAll(db, from, 10);
      expect(read.map((m) => m.type)).toEqual(['Here']);
    });
  });

  it('a transaction of this database that has an id but has not appended yet still holds readers back', async () => {
    const from = await lastGlobalPosition(db);
    let proceed!: () => void;
    const mayAppend = new Promise<void>((r) => (proceed = r));
    let idTaken!: () => void;
    const hasId = new Promise<void>((r) => (idTaken = r));
    // Like an engine batch: it writes its inbox rows first and appends to the log later.
    const slow = db.transaction(async (tx) => {
      await tx.query('SELECT pg_current_xact_id()');
      idTaken();
      await mayAppend;
      await appendToStream(tx, `slow-${Date.now()}`, 0, [{ type: 'Slow', data: null }]);
    });
    await hasId;
    await appendToStream(db, `fast-${Date.now()}`, 0, [{ type: 'Fast', data: null }]);
    // Reading past the slow transaction now would skip its message for ever.
    expect(await readAll(db, from, 10)).toEqual([]);
    proceed();
    await slow;
    expect((await readAll(db, from, 10)).map((m) => m.type)).toEqual(['Slow', 'Fast']);
  });

  /*
   * Since store migration 12 the horizon learns which database holds an id from
   * pg_stat_get_activity, which hides other roles' queries from a role without
   * pg_read_all_stats but not their transaction ids. Run as such a role, the rule holds.
   */
  describe('read by a role without pg_read_all_stats, the transactions being another role\'s', () => {
    const role = `ordo_t_horizon_reader_${process.pid}`;
    let reader: pg.Client;
    beforeAll(async () => {
      await db.query(`DROP ROLE IF EXISTS ${role}`);
      await db.query(`CREATE ROLE ${role} LOGIN`);
      const url = new URL(ours.url);
      url.username = role;
      reader = new pg.Client({ connectionString: url.toString() });
      await reader.connect();
    });
    afterAll(async () => {
      await reader?.end();
      await db.query(`DROP ROLE IF EXISTS ${role}`);
    });
    const horizonAbove = async (id: string): Promise<boolean> =>
      (await reader.query<{ above: boolean }>('SELECT ordo_read_horizon() > $1::text::xid8 AS above', [id])).rows[0]!.above;
    it('is not held back by another database\'s transaction', async () => {
      await holdingIn(other.db, async (id) => expect(await horizonAbove(id)).toBe(true));
    });

    it('is held back by its own database\'s transaction', async () => {
      await holdingIn(db, async (id) => expect(await horizonAbove(id)).toBe(false));
    });
  });
});
