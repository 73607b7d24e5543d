import { describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { sampleOrder, VirtualClock } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, type SagaEngineOptions } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

const reserved = (id: string, saga: string) => ({ id, key: saga, type: 'InventoryReserved', payload: { reservationId: `res-${saga}` } });
const created = (saga: string) => ({ id: `${saga}:created`, key: saga, type: 'OrderCreated', payload: {} });

describe.each(['PGlite', 'PostgreSQL server'])('messages that come too early on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_parked', prepare);

  async function setup(opts: Partial<SagaEngineOptions> = {}) {
    const d = await fresh();
    const clock = new VirtualClock();
    const engine = createSagaEngine({ db: d.db, machines: [orderMachine], clock, pollIntervalMs: false, migrate: false, ...opts });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());
    const count = async (table: string) => Number((await d.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n);
    return { db: d.db, engine, clock, count };
  }

  it('parks a message for a saga that does not exist yet, without marking it handled, and applies it when the saga starts', async () => {
    const { engine, count } = await setup();
    expect(await engine.deliver([created('o1')])).toMatchObject([{ status: 'parked', code: 'SAGA_NOT_FOUND', sagaId: 'o1' }]);
    // Its redelivery is not a duplicate: the inbox does not have it.
    expect(await engine.deliver([created('o1')])).toMatchObject([{ status: 'parked' }]);
    expect(await count('ordo_inbox')).toBe(0);
    expect(await count('ordo_dead_letters')).toBe(0);
    expect(await engine.startSaga('o1', 'order', sampleOrder('o1'))).toMatchObject({ status: 'started' });
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('INVENTORY_RESERVING');
    expect(await count('ordo_parked_messages')).toBe(0);
    // Handled now: a later redelivery is the duplicate.
    expect(await engine.deliver([created('o1')])).toMatchObject([{ status: 'duplicate' }]);
  });

  it('parks what the state cannot take yet and applies it, in arrival order, once the state can', async () => {
    const { engine, count } = await setup();
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    const early = await engine.deliver([reserved('r-1', 'o1'), { id: 'p-1', key: 'o1', type: 'PaymentApproved', payload: { paymentId: 'pay-1' } }]);
    expect(early.map((r) => r.status)).toEqual(['parked', 'parked']);
    expect(await engine.deliver([created('o1')])).toMatchObject([{ status: 'applied' }]);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('PREPARING_SHIPMENT');
    expect(await count('ordo_parked_messages')).toBe(0);
    expect(await engine.deliver([reserved('r-1', 'o1')])).toMatchObject([{ status: 'duplicate' }]);
  });

  it('tries parked messages again with backoff, and dead-letters them (handled) once parked too long', async () => {
    const { db, engine, clock, count } = await setup({ parkedTtlMs: 60_000 });
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    await engine.deliver([reserved('r-1', 'o1')]);
    await clock.advance(1000);
    await engine.fireDueTimers();
    const attempts = await db.query<{ attempts: number }>('SELECT attempts FROM ordo_parked_messages');
    expect(attempts.rows.map((r) => Number(r.attempts))).toEqual([2]);
    await clock.advance(60_000);
    await engine.fireDueTimers();
    expect(await count('ordo_parked_messages')).toBe(0);
    const dl = await db.query<{ message_id: string; error_code: string; reason: string }>('SELECT message_id, error_code, reason FROM ordo_dead_letters');
    expect(dl.rows).toMatchObject([{ message_id: 'r-1', error_code: 'INVALID_TRANSITION' }]);
    expect(dl.rows[0]?.reason).toMatch(/parked for more than 60000 ms/);
    expect(await engine.deliver([reserved('r-1', 'o1')])).toMatchObject([{ status: 'duplicate' }]);
  });

  it('dead-letters at once what a finished saga cannot take, and what a caller asks not to park', async () => {
    const { engine } = await setup();
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    expect(await engine.deliver([{ id: 'c-1', key: 'o1', type: 'CancelRequested', payload: { reason: 'changed my mind' } }])).toMatchObject([{ status: 'applied', state: 'CANCELED' }]);
    expect(await engine.deliver([{ id: 's-1', key: 'o1', type: 'PackageShipped', payload: { trackingNumber: 't' } }])).toMatchObject([{ status: 'dead-lettered', code: 'INVALID_TRANSITION' }]);
    await engine.startSaga('o2', 'order', sampleOrder('o2'));
    expect(await engine.deliver([reserved('r-2', 'o2')], { park: false })).toMatchObject([{ status: 'dead-lettered', code: 'INVALID_TRANSITION' }]);
    expect(await engine.deliver([created('o3')], { park: false })).toMatchObject([{ status: 'dead-lettered', code: 'SAGA_NOT_FOUND' }]);
  });
});
