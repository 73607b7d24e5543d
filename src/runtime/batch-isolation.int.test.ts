import { describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { sampleOrder, VirtualClock } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

describe.each(['PGlite', 'PostgreSQL server'])('one bad message in a batch on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_isolation', prepare);

  it('is dead-lettered with the reason while its batchmates commit', async () => {
    const d = await fresh();
    const engine = createSagaEngine({ db: d.db, machines: [orderMachine], clock: new VirtualClock(), pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());
    const ids = ['o1', 'o2', 'o3', 'o4', 'o5'];
    for (const id of ids) await engine.startSaga(id, 'order', sampleOrder(id), { first: { id: `${id}:created`, type: 'OrderCreated' } });
    // One call, so one batch: a NUL in a payload, which jsonb refuses, sits among four good replies.
    const results = await engine.deliver(ids.map((id) => ({ id: `r-${id}`, key: id, type: 'InventoryReserved', payload: { reservationId: id === 'o3' ? 'res\u0000bad' : `res-${id}` } })));
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'dead-lettered', 'applied', 'applied']);
    const bad = results[2];
    expect(bad?.status === 'dead-lettered' && bad.reason).toMatch(/batch could not be written with this message/);
    for (const id of ['o1', 'o2', 'o4', 'o5']) expect((await engine.getSaga(id))?.snapshot.state).toBe('PAYMENT_PROCESSING');
    expect((await engine.getSaga('o3'))?.snapshot.state).toBe('INVENTORY_RESERVING');
    const dl = await d.db.query<{ message_id: string; message: { payload: { reservationId: string } } }>('SELECT message_id, message FROM ordo_dead_letters');
    expect(dl.rows).toEqual([{ message_id: 'r-o3', message: expect.objectContaining({ payload: { reservationId: 'res\\u0000bad' } }) as unknown }]);
    // Handled: its redelivery is a duplicate, not another failing batch.
    expect(await engine.deliver([{ id: 'r-o3', key: 'o3', type: 'InventoryReserved', payload: { reservationId: 'res\u0000bad' } }])).toMatchObject([{ status: 'duplicate' }]);
  });
});
