import { describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { crashingDb, sampleOrder } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

const options = { machines: [orderMachine], pollIntervalMs: false as const, migrate: false };
const first = (id: string) => ({ id: `${id}:created`, type: 'OrderCreated', payload: {} });

/** How the shop places an order: the saga and its first event in one call. */
async function place(db: Db, id: string): Promise<void> {
  const engine = createSagaEngine({ ...options, db });
  await engine.start();
  try {
    await engine.startSaga(id, 'order', sampleOrder(id), { first: first(id) });
  } finally {
    await engine.stop().catch(() => undefined);
  }
}

describe.each(['PGlite', 'PostgreSQL server'])('starting a saga with its first event on %s', (name) => {
  const { fresh } = databasePerTest(name, 'runtime_start', prepare);

  it('is one commit: a crash after any write leaves no saga or a saga past its initial state, never one waiting in it', async () => {
    const d = await fresh();
    try {
      const counting = crashingDb(d.db);
      await place(counting, 'count');
      expect(counting.writes).toBeGreaterThan(1);
      for (let n = 1; n <= counting.writes; n++) {
        const id = `o-${n}`;
        await expect(place(crashingDb(d.db, n), id)).rejects.toMatchObject({ code: 'CRASH_INJECTED' });
        const engine = createSagaEngine({ ...options, db: d.db });
        await engine.start();
        const saga = await engine.getSaga(id);
        await engine.stop();
        expect(saga === undefined || saga.snapshot.state !== orderMachine.initial, `crash after write ${n} stranded ${id} in ${saga?.snapshot.state}`).toBe(true);
      }
    } finally {
      await d.close();
    }
  });

  it('applies the first event once; a retried start with it changes nothing', async () => {
    const d = await fresh();
    const engine = createSagaEngine({ ...options, db: d.db });
    await engine.start();
    try {
      const started = await engine.startSaga('o-1', 'order', sampleOrder('o-1'), { first: first('o-1') });
      expect(started).toMatchObject({ status: 'started' });
      expect(started.status === 'started' && started.state).not.toBe(orderMachine.initial);
      const again = await engine.startSaga('o-1', 'order', sampleOrder('o-1'), { first: first('o-1') });
      expect(again).toMatchObject({ status: 'exists', state: started.status === 'started' ? started.state : '' });
      expect((await engine.getSaga('o-1'))?.revision).toBe(2);
      await expect(engine.startSaga('o-2', 'order', sampleOrder('o-2'), { first: { id: '', type: 'OrderCreated' } })).rejects.toMatchObject({ code: 'INVALID_SAGA_INPUT' });
      // Started the two-call way and already past its first event: a start with it leaves it alone.
      await engine.startSaga('o-3', 'order', sampleOrder('o-3'));
      await engine.deliver([{ id: 'other-id', key: 'o-3', type: 'OrderCreated', payload: {} }]);
      expect(await engine.startSaga('o-3', 'order', sampleOrder('o-3'), { first: first('o-3') })).toMatchObject({ status: 'exists', state: 'INVENTORY_RESERVING' });
      const leftovers = await d.db.query<{ n: string }>('SELECT ((SELECT count(*) FROM ordo_dead_letters) + (SELECT count(*) FROM ordo_parked_messages))::text AS n');
      expect(leftovers.rows[0]?.n).toBe('0');
    } finally {
      await engine.stop();
      await d.close();
    }
  });
});
