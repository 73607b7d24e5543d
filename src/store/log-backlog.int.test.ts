import { describe, expect, it } from 'vitest';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { seqTuplesReadBy } from '../testing/table-reads.js';
import { appendToStreams, globalPositionOf, LOG_START, logBacklog, migrateStore, readAll, saveCheckpoint, type Db } from './index.js';

/*
 * logBacklog feeds the outbox-lag gauges and the dashboard's sample of every service, every
 * few seconds: what a reader has not passed yet, by index from its checkpoint, however long
 * the log it has passed (a service keeps a week of it).
 */

const LOGGED = 20_000;

describe.each(bothEngines('store_backlog'))('the backlog of a reader of the log on %s', (_name, open) => {
  let db: Db;
  databaseForSuite(
    open,
    async (d) => {
      await migrateStore(d);
      for (let i = 0; i < LOGGED; i += 2000) {
        await appendToStreams(d, Array.from({ length: 200 }, (_, s) => ({ stream: `s-${i + s}`, expectedVersion: 0, messages: Array.from({ length: 10 }, (_, k) => ({ type: 'E', data: { k } })) })));
      }
      await d.query('ANALYZE ordo_messages');
    },
    (d) => (db = d),
  );

  it(`counts what is past the checkpoint without reading the ${LOGGED} messages before it`, async () => {
    const all = await readAll(db, LOG_START, LOGGED);
    await saveCheckpoint(db, 'relay', globalPositionOf(all[LOGGED - 8]!));
    const { result, reads } = await db.transaction((tx) => seqTuplesReadBy(tx, () => logBacklog(tx, 'relay')));
    expect(result.messages).toBe(7);
    expect(result.oldestSeconds).toBeGreaterThanOrEqual(0);
    expect(reads.get('ordo_messages') ?? 0).toBeLessThan(100);
  });

  it('counts from the start for a reader without a checkpoint, up to the cap', async () => {
    expect((await logBacklog(db, 'nobody-yet')).messages).toBe(LOGGED);
    expect((await logBacklog(db, 'nobody-yet', 500)).messages).toBe(500);
  });
});
