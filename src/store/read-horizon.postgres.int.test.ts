import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { appendToStream, lastGlobalPosition, migrateStore, readAll, type Db } from './index.js';

/*
 * Transaction ids are cluster-wide: before store migration 6 readAll read below
 * pg_snapshot_xmin, so a transaction open in ANY database of the server held every
 * reader of every ordo database back. These cases run on the server only (PGlite has one
 * connection, so nothing else is ever in progress).
 */
describe('read horizon on the PostgreSQL server', () => {
  let ours: FreshDatabase & { name: string };
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

  it('a transaction running in another database does not hold readers of this one back', async () => {
    const from = await lastGlobalPosition(db);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const hasId = new Promise<void>((r) => (started = r));
    const elsewhere = other.db.transaction(async (tx) => {
      await tx.query('SELECT pg_current_xact_id()'); // it has a transaction id, like any transaction that wrote
      started();
      await released;
    });
    await hasId;
    try {
      await appendToStream(db, `s-${Date.now()}`, 0, [{ type: 'Here', data: null }]);
      const read = await readAll(db, from, 10);
      expect(read.map((m) => m.type)).toEqual(['Here']);
    } finally {
      release();
      await elsewhere;
    }
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
});
