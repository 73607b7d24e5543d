import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../machine/index.js';
import { migrate, migrateStore, readStream, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../shop/order-machine-v2.js';
import { sampleOrder, VirtualClock } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, listMigrationRuns, migrateSagas, MigrationRefusedError, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, sagaVersionCounts, type SagaEngine } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

const machines = [orderMachineV2, orderMachine];
const msg = (saga: string, type: string, payload: Record<string, unknown> = {}) => ({ id: `${saga}:${type}`, key: saga, type, payload });
/** The messages that take a new v1 instance to each state (INVENTORY_RESERVED and PAYMENT_APPROVED are left at once). */
const toState: Record<string, string[]> = {
  INITIATED: [],
  INVENTORY_RESERVING: ['OrderCreated'],
  PAYMENT_PROCESSING: ['OrderCreated', 'InventoryReserved'],
  PREPARING_SHIPMENT: ['OrderCreated', 'InventoryReserved', 'PaymentApproved'],
  SHIPPED: ['OrderCreated', 'InventoryReserved', 'PaymentApproved', 'PackageShipped'],
  REVERTING_RESERVATION: ['OrderCreated', 'CancelRequested'],
  REFUNDING_PAYMENT: ['OrderCreated', 'InventoryReserved', 'CancelRequested'],
  COMPENSATION_FAILED: ['OrderCreated', 'CancelRequested', 'ReleaseFailed'],
  DELIVERED: ['OrderCreated', 'InventoryReserved', 'PaymentApproved', 'PackageShipped', 'DeliveryConfirmed'],
  CANCELED: ['OrderCreated', 'InventoryInsufficient'],
};
const payloads: Record<string, Record<string, unknown>> = {
  InventoryReserved: { reservationId: 'r1' },
  PaymentApproved: { paymentId: 'p1' },
  PackageShipped: { trackingNumber: 't1' },
};

const flow = setup({ context: z.object({ n: z.number() }), events: { Go: z.object({}), Finish: z.object({}) } });
const flowV1 = flow.createMachine({ id: 'flow', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { on: { Finish: 'C' } }, C: { type: 'final' } } });
/** v2 lets A finish at once. */
const flowV2 = flow.createMachine({ id: 'flow', version: 2, initial: 'A', states: { A: { on: { Go: 'B', Finish: 'C' } }, B: { on: { Finish: 'C' } }, C: { type: 'final' } } });

describe.each(['PGlite', 'PostgreSQL server'])('live migration of in-flight sagas on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_saga_migration', prepare);

  async function engineOn(db: Db, list: typeof machines, clock = new VirtualClock()): Promise<SagaEngine> {
    const engine = createSagaEngine({ db, machines: list, clock, pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => engine.stop());
    return engine;
  }

  /** One v1 instance per state of `toState`, named after it. */
  async function instancesInEveryState(db: Db, clock: VirtualClock): Promise<void> {
    const v1 = await engineOn(db, [orderMachine], clock);
    for (const [state, path] of Object.entries(toState)) {
      await v1.startSaga(state, 'order', sampleOrder(state));
      for (const type of path) expect(await v1.deliver([msg(state, type, payloads[type])])).toMatchObject([{ status: 'applied' }]);
      expect((await v1.getSaga(state))?.snapshot.state).toBe(state);
    }
    await v1.stop();
  }

  const timers = async (db: Db) => (await db.query<{ saga_id: string; timer_id: string; due_at: string }>('SELECT saga_id, timer_id, due_at::text AS due_at FROM ordo_saga_timers ORDER BY 1, 2')).rows;

  it('moves an instance in every unfinished v1 state to v2, keeps its timers, records it, and v2 runs it on', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    const clock = new VirtualClock();
    await instancesInEveryState(d.db, clock);
    // Parked by the engine in a state that is not itself an alert state (as after a step nobody answers).
    await d.db.query(`UPDATE ordo_saga_instances SET status = 'parked' WHERE id = 'PREPARING_SHIPMENT'`);
    const timersBefore = await timers(d.db);
    expect(timersBefore.length).toBeGreaterThan(0);

    const progress: number[] = [];
    const report = await migrateSagas(d.db, { migration: orderMigrationV1toV2, machines, batchSize: 3, operator: 'test', clock, onProgress: (p) => void progress.push(p.migrated) });
    expect(report).toMatchObject({ status: 'finished', planned: 8, migrated: 8, failed: 0, remaining: 0, batches: 3 });
    expect(progress).toEqual([3, 6, 8]);
    // Finished instances stay on v1: their history happened there.
    expect(await sagaVersionCounts(d.db)).toEqual([
      { machine: 'order', version: 1, unfinished: 0, finished: 2 },
      { machine: 'order', version: 2, unfinished: 8, finished: 0 },
    ]);
    expect(await timers(d.db)).toEqual(timersBefore);
    const [run] = await listMigrationRuns(d.db);
    expect(run).toMatchObject({ machine: 'order', from: 1, to: 2, operator: 'test', status: 'finished', planned: 8, migrated: 8, failed: 0, batches: 3 });
    expect(run?.finishedAt).not.toBeNull();

    const both = await engineOn(d.db, machines, clock);
    for (const state of Object.keys(toState)) {
      const saga = await both.getSaga(state);
      expect(saga?.snapshot.state, state).toBe(state);
      const final = state === 'DELIVERED' || state === 'CANCELED';
      expect(saga?.machineVersion, state).toBe(final ? 1 : 2);
      const migrated = (await readStream(d.db, `order-${state}`)).filter((m) => m.type === 'ordo.migrated');
      expect(migrated.map((m) => m.data), state).toEqual(final ? [] : [expect.objectContaining({ fromVersion: 1, toVersion: 2, from: state, to: state, mode: 'await' })]);
    }
    expect((await both.getSaga('COMPENSATION_FAILED'))?.status).toBe('parked');
    expect((await both.getSaga('PREPARING_SHIPMENT'))?.status).toBe('parked');
    expect((await both.getSaga('SHIPPED'))?.status).toBe('active');
    // v2's behaviour now: a reservation leads to the fraud check; the v1 timers fire under v2.
    expect(await both.deliver([msg('INVENTORY_RESERVING', 'InventoryReserved', payloads['InventoryReserved'])])).toMatchObject([{ status: 'applied', state: 'FRAUD_CHECKING' }]);
    await clock.advance(24 * 3600_000);
    expect((await both.getSaga('PAYMENT_PROCESSING'))?.snapshot.state).toBe('REFUNDING_PAYMENT');
    expect((await both.getSaga('INVENTORY_RESERVING'))?.snapshot.state).not.toBe('FRAUD_CHECKING');
    // A second run has nothing left to move.
    expect(await migrateSagas(d.db, { migration: orderMigrationV1toV2, machines })).toMatchObject({ planned: 0, migrated: 0, status: 'finished' });
  });

  it('performs an entered state’s effects as a transition does: old timer cancelled, command to the outbox, new timer armed', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    const clock = new VirtualClock();
    await instancesInEveryState(d.db, clock);
    const screenAll = { ...orderMigrationV1toV2, states: { ...orderMigrationV1toV2.states, INVENTORY_RESERVING: { to: 'FRAUD_CHECKING', pending: 'enter' as const } } };
    await migrateSagas(d.db, { migration: screenAll, machines, clock });
    const stream = await readStream(d.db, 'order-INVENTORY_RESERVING');
    expect(stream.slice(-3).map((m) => [m.type, m.metadata['kind']])).toEqual([
      ['ordo.migrated', 'timeline'],
      ['CheckFraud', 'command'],
      ['FraudCheckRequested', 'event'],
    ]);
    expect((await timers(d.db)).filter((t) => t.saga_id === 'INVENTORY_RESERVING').map((t) => t.timer_id)).toEqual([expect.stringMatching(/^FRAUD_CHECKING\/fraudTimeout#/)]);
    const both = await engineOn(d.db, machines, clock);
    expect((await both.getSaga('INVENTORY_RESERVING'))?.pending.map((p) => p.step)).toEqual(['checkFraud']);
    expect(await both.deliver([msg('INVENTORY_RESERVING', 'FraudCleared')])).toMatchObject([{ status: 'applied', state: 'PAYMENT_PROCESSING' }]);
  });

  it('refuses a mapping that is wrong as data, listing every problem, and touches nothing', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    await instancesInEveryState(d.db, new VirtualClock());
    const { SHIPPED: _gone, ...rest } = orderMigrationV1toV2.states;
    const wrong = { ...orderMigrationV1toV2, states: { ...rest, DELIVERED: 'SHIPPED' } };
    const err: unknown = await migrateSagas(d.db, { migration: wrong, machines }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationRefusedError);
    expect((err as Error).message).toMatch(/does not map SHIPPED/);
    expect((err as Error).message).toMatch(/maps final state DELIVERED to SHIPPED, which is not final/);
    await expect(migrateSagas(d.db, { migration: orderMigrationV1toV2, machines: [orderMachineV2] })).rejects.toThrow(/version 1 of order is not among the machines given/);
    expect(await listMigrationRuns(d.db)).toEqual([]);
    expect((await sagaVersionCounts(d.db)).map((v) => v.version)).toEqual([1]);
  });

  it('retries an instance’s parked messages under the new version in the migration’s transaction', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    const v1 = createSagaEngine({ db: d.db, machines: [flowV1], pollIntervalMs: false, migrate: false });
    await v1.start();
    await v1.startSaga('f', 'flow', { n: 1 });
    expect(await v1.deliver([{ id: 'fin', key: 'f', type: 'Finish' }])).toMatchObject([{ status: 'parked' }]);
    await v1.stop();
    const report = await migrateSagas(d.db, { migration: { machine: 'flow', from: 1, to: 2, states: { A: 'A', B: 'B', C: 'C' } }, machines: [flowV2, flowV1] });
    expect(report.migrated).toBe(1);
    expect((await d.db.query<{ state: string; status: string }>(`SELECT state, status FROM ordo_saga_instances WHERE id = 'f'`)).rows).toEqual([{ state: 'C', status: 'final' }]);
    expect((await d.db.query('SELECT 1 FROM ordo_parked_messages')).rows).toEqual([]);
  });

  it('a crash between batches leaves whole batches; a rerun moves the rest, each instance once', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    const v1 = await engineOn(d.db, [orderMachine]);
    for (let i = 0; i < 30; i++) await v1.startSaga(`o${String(i).padStart(2, '0')}`, 'order', sampleOrder(`o${i}`), { first: { id: `o${i}:created`, type: 'OrderCreated' } });
    const crash = migrateSagas(d.db, {
      migration: orderMigrationV1toV2,
      machines,
      batchSize: 7,
      onProgress: (p) => {
        if (p.batches === 2) throw new Error('killed after batch 2');
      },
    });
    await expect(crash).rejects.toThrow('killed after batch 2');
    expect((await sagaVersionCounts(d.db)).map((v) => [v.version, v.unfinished])).toEqual([
      [1, 16],
      [2, 14],
    ]);
    expect(await listMigrationRuns(d.db)).toMatchObject([{ status: 'failed', migrated: 14, batches: 2, error: 'killed after batch 2' }]);
    // Stopped between batches (an engine's stop(), Ctrl-C): recorded as aborted, the rest left for later.
    const stop = new AbortController();
    const aborted = await migrateSagas(d.db, { migration: orderMigrationV1toV2, machines, batchSize: 7, signal: stop.signal, onProgress: () => stop.abort() });
    expect(aborted).toMatchObject({ status: 'aborted', planned: 16, migrated: 7, remaining: 9 });
    expect((await listMigrationRuns(d.db))[0]).toMatchObject({ status: 'aborted', migrated: 7 });
    const rerun = await migrateSagas(d.db, { migration: orderMigrationV1toV2, machines, batchSize: 7 });
    expect(rerun).toMatchObject({ planned: 9, migrated: 9, remaining: 0, status: 'finished' });
    expect((await sagaVersionCounts(d.db)).map((v) => [v.version, v.unfinished])).toEqual([[2, 30]]);
    const markers = await d.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_messages WHERE type = 'ordo.migrated' GROUP BY stream HAVING count(*) <> 1`);
    expect(markers.rows).toEqual([]);
  });
});
