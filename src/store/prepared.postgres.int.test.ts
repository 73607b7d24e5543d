import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { appendToStream, LOG_START, migrateStore, openPostgres, readAll, saveCheckpoint, loadCheckpoint, type Db } from './index.js';
import { preparedName, preparedStatement } from './prepared.js';

/*
 * The hot fixed statements (the log read, the checkpoints) are parsed and planned once per
 * connection on the server, then only bound and executed: the connection holds them as
 * prepared statements, and a statement not marked is not held.
 */
describe('prepared statements (PostgreSQL server)', () => {
  let fresh: FreshDatabase & { url: string };
  let db: Db;
  beforeAll(async () => {
    fresh = await freshPostgres('prepared', 2);
    await migrateStore(fresh.db);
    db = openPostgres({ url: fresh.url, max: 1 }); // one connection: every query below runs on it
  });
  afterAll(async () => {
    await db?.close();
    await fresh?.close();
  });

  const held = async (): Promise<string[]> =>
    (await db.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);

  it('runs the log read and the checkpoint statements prepared, with the same results, and nothing else', async () => {
    await appendToStream(db, 'prepared-1', 0, [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }]);
    const first = await readAll(db, LOG_START, 10);
    const again = await readAll(db, LOG_START, 10);
    expect(again).toEqual(first);
    expect(first.map((m) => m.type)).toEqual(['A', 'B']);
    await db.transaction(async (tx) => {
      await tx.query('SELECT 1 AS one', []); // BEGIN goes with this one
      await saveCheckpoint(tx, 'reader', { txId: first[1]!.txId, position: first[1]!.position });
    });
    expect(await loadCheckpoint(db, 'reader')).toEqual({ txId: first[1]!.txId, position: first[1]!.position });
    const names = await held();
    expect(names.length).toBe(3); // the log read, the checkpoint save, the checkpoint load
    for (const n of names) expect(n).toMatch(/^ordo_[0-9a-f]{20}$/);
    await db.query('SELECT $1::int AS n', [1]); // not marked: not prepared
    expect(await held()).toEqual(names);
  });

  it('names a statement by its text: one name per text, a different text another', () => {
    const a = preparedStatement('SELECT $1::int AS a');
    const b = preparedStatement('SELECT $1::int AS b');
    expect(preparedName(a)).toBe(preparedName(preparedStatement('SELECT $1::int AS a')));
    expect(preparedName(a)).not.toBe(preparedName(b));
    expect(preparedName('SELECT $1::int AS c')).toBeUndefined();
  });
});
