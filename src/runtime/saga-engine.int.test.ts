import { describe, expect, it } from 'vitest';
import { deciderFromMachine, foldEvents, TRANSITION, type MachineRecord } from '../eventsourcing/index.js';
import { withDelays } from '../machine/index.js';
import { migrate, readStream, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import {
  SIMULATION_MIGRATION_SCOPE,
  SimulatedServices,
  VirtualClock,
  checkOrderOutcomes,
  pumpServicesUntilIdle,
  runUntilQuiet,
  sampleOrder,
  seededRandom,
  simulationMigrations,
  type SimulationOptions,
} from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { backoffDelay, createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, STEP_FAILED, type SagaEngine, type SagaEngineOptions } from './index.js';
import { migrateStore } from '../store/index.js';

const machine = withDelays(orderMachine, { reservationTimeout: '10s', paymentTimeout: '10s', compensationTimeout: '1m' });

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
  await migrate(db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
}

describe.each(['PGlite', 'PostgreSQL server'])('saga engine on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime', prepare);

  async function setup(opts: Partial<SagaEngineOptions> = {}, sim: Partial<SimulationOptions> = {}) {
    const d = await fresh();
    const clock = new VirtualClock();
    const engine = createSagaEngine({ db: d.db, machines: [machine], clock, random: seededRandom(7), pollIntervalMs: false, ...opts });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());
    const services = new SimulatedServices({ seed: 1, ...sim });
    return { db: d.db, clock, engine, services };
  }
  async function place(engine: SagaEngine, id: string) {
    await engine.startSaga(id, 'order', sampleOrder(id));
    return engine.deliver([{ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} }]);
  }
  const types = async (db: Db, id: string) => (await readStream(db, `order-${id}`)).map((m) => m.type);

  it('runs an order to DELIVERED, recording every transition and command in its stream', async () => {
    const { db, clock, engine, services } = await setup();
    await place(engine, 'o1');
    await runUntilQuiet({ db, engine, services, clock });
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('DELIVERED');
    const stream = await readStream(db, 'order-o1');
    expect(stream.map((m) => m.type)).toEqual([
      'ordo.transition', 'ordo.transition', 'OrderCreated', 'ReserveInventory',
      'ordo.transition', 'ProcessPayment', 'PaymentRequested',
      'ordo.transition', 'PrepareShipment', 'ShipmentRequested',
      'ordo.transition', 'ordo.transition', 'OrderDelivered',
    ]);
    expect(stream.find((m) => m.type === 'ReserveInventory')?.metadata).toMatchObject({ topic: 'inventory-commands', key: 'o1', kind: 'command', step: 'reserveInventory' });
    expect(stream.find((m) => m.type === 'OrderDelivered')?.metadata).toMatchObject({ topic: 'order-events', key: 'o1' });
    const report = await checkOrderOutcomes(db);
    expect(report.violations).toEqual([]);
    // Final: no timers left behind.
    expect((await db.query('SELECT * FROM ordo_saga_timers')).rows).toEqual([]);
  });

  it('applies a duplicated message once, in one batch and across batches', async () => {
    const { db, engine } = await setup();
    await place(engine, 'o1');
    const reserved = { id: 'r-1', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'res-1' } };
    const first = await engine.deliver([reserved, reserved]);
    expect(first.map((r) => r.status)).toEqual(['applied', 'duplicate']);
    const again = await engine.deliver([reserved]);
    expect(again.map((r) => r.status)).toEqual(['duplicate']);
    expect((await types(db, 'o1')).filter((t) => t === 'ProcessPayment')).toHaveLength(1);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('PAYMENT_PROCESSING');
  });

  it('handles reordered delivery: an early reply is parked and applied once its turn has come; a late one is ignored', async () => {
    const { db, engine, clock } = await setup();
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    // The reply overtakes the event that makes it valid.
    const early = await engine.deliver([{ id: 'r-1', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'res-1' } }]);
    expect(early[0]).toMatchObject({ status: 'parked', code: 'INVALID_TRANSITION' });
    expect(await engine.deliver([{ id: 'create:o1', key: 'o1', type: 'OrderCreated', payload: {} }])).toMatchObject([{ status: 'applied' }]);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('PAYMENT_PROCESSING');
    expect((await db.query('SELECT 1 FROM ordo_dead_letters')).rows).toHaveLength(0);

    // A reply arriving after its timeout moved the saga on is accepted and ignored (the machine's `ignore`).
    await clock.advance(10_000);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('REFUNDING_PAYMENT');
    const late = await engine.deliver([{ id: 'p-1', key: 'o1', type: 'PaymentApproved', payload: { paymentId: 'p' } }]);
    expect(late[0]).toMatchObject({ status: 'applied', changed: false, state: 'REFUNDING_PAYMENT' });
    expect(await types(db, 'o1')).toContain('ordo.ignored');
  });

  it('dead-letters poison messages with the reason and goes on with the batch', async () => {
    const { db, engine } = await setup();
    await place(engine, 'o1');
    const results = await engine.deliver([
      { id: 'x-1', key: 'o1', type: 'NoSuchEvent', payload: {} },
      { id: 'x-2', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 42 } },
      { id: 'x-3', key: 'nobody', type: 'InventoryReserved', payload: { reservationId: 'r' } },
      { id: 'x-4', key: 'o1', type: 'ordo.timer', payload: { timer: 'INVENTORY_RESERVING/reservationTimeout#1' } },
      { id: 'x-5', key: 'o1', type: STEP_FAILED, payload: { step: 'reserveInventory' } },
      { id: 'ok-1', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'r' } },
    ]);
    expect(results.map((r) => (r.status === 'dead-lettered' ? r.code : r.status))).toEqual([
      'INVALID_TRANSITION', 'INVALID_EVENT', 'parked', 'FORGED_TIMER_EVENT', 'INVALID_STEP_FAILED', 'applied',
    ]);
    // Not even a message: rejected to the caller, nothing written.
    const junk = await engine.deliver([{ id: '', key: 'o1', type: 'X' }, { id: 'j', key: 'o1' } as never]);
    expect(junk.map((r) => (r.status === 'rejected' ? (r.error as { code?: string }).code : r.status))).toEqual(['INVALID_SAGA_INPUT', 'INVALID_SAGA_INPUT']);
    await expect(engine.startSaga('', 'order', sampleOrder('x'))).rejects.toMatchObject({ code: 'INVALID_SAGA_INPUT' });
    await expect(engine.startSaga('bad', 'order', { orderId: 'bad' })).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    await expect(engine.startSaga('bad', 'nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_MACHINE' });
    const dls = await db.query<{ message_id: string; reason: string; attempts: number }>('SELECT message_id, reason, attempts FROM ordo_dead_letters ORDER BY id');
    expect(dls.rows.map((r) => r.message_id)).toEqual(['x-1', 'x-2', 'x-4', 'x-5']);
    expect(dls.rows[1]?.reason).toMatch(/reservationId/);
    // Redelivering a dead-lettered message does not dead-letter it twice (the inbox has it).
    expect((await engine.deliver([{ id: 'x-1', key: 'o1', type: 'NoSuchEvent', payload: {} }]))[0]?.status).toBe('duplicate');
    // A replay that fails again stays dead-lettered, with one more attempt.
    const first = await db.query<{ id: string }>(`SELECT id::text AS id FROM ordo_dead_letters WHERE message_id = 'x-1'`);
    await expect(engine.replayDeadLetter(first.rows[0]?.id ?? '')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    const after = await db.query<{ attempts: number; replayed_at: unknown }>(`SELECT attempts, replayed_at FROM ordo_dead_letters WHERE message_id = 'x-1'`);
    expect(after.rows[0]).toMatchObject({ attempts: 2, replayed_at: null });
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('PAYMENT_PROCESSING');
  });

  it('retries a failing step with exponential backoff and seeded jitter, then takes the failure transition', async () => {
    const { db, engine, clock } = await setup({ retry: { maxAttempts: 3, initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0.5 }, random: seededRandom(3) });
    await place(engine, 'o1');
    await engine.deliver([{ id: 'r', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'res' } }]);
    const jitter = seededRandom(3);
    const policy = engine.options.retry;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const r = await engine.deliver([{ id: `f${attempt}`, key: 'o1', type: STEP_FAILED, payload: { step: 'processPayment', attempt, retryable: true, reason: 'provider 503' } }]);
      const expected = backoffDelay(policy, attempt, jitter);
      expect(r[0]).toMatchObject({ status: 'retry-scheduled', attempt, retryInMs: expected });
      expect(expected).toBeGreaterThanOrEqual((1000 * 2 ** (attempt - 1)) / 2);
      await clock.advance(expected - 1);
      expect((await types(db, 'o1')).filter((t) => t === 'ProcessPayment')).toHaveLength(attempt);
      await clock.advance(1);
      expect((await types(db, 'o1')).filter((t) => t === 'ProcessPayment')).toHaveLength(attempt + 1);
    }
    // The third failure exhausts the attempts: the step's failure transition (PaymentRefused).
    const last = await engine.deliver([{ id: 'f3', key: 'o1', type: STEP_FAILED, payload: { step: 'processPayment', attempt: 3, retryable: true, reason: 'provider 503' } }]);
    expect(last[0]).toMatchObject({ status: 'applied', state: 'REVERTING_RESERVATION' });
    const attempts = await db.query<{ attempt: number; retry_at: string | null }>('SELECT attempt, retry_at::text AS retry_at FROM ordo_command_attempts ORDER BY attempt');
    expect(attempts.rows.map((a) => [a.attempt, a.retry_at === null])).toEqual([[1, false], [2, false], [3, true]]);
    expect((await engine.getSaga('o1'))?.snapshot.context).toMatchObject({ failureReason: expect.stringMatching(/processPayment failed after 3 attempts/) as unknown });
  });

  it('takes the failure transition at once for a non-retryable failure, and ignores a stale one', async () => {
    const { db, engine } = await setup();
    await place(engine, 'o1');
    const stale = await engine.deliver([{ id: 's', key: 'o1', type: STEP_FAILED, payload: { step: 'processPayment', attempt: 1, retryable: false, reason: 'x' } }]);
    expect(stale[0]).toMatchObject({ status: 'stale', state: 'INVENTORY_RESERVING' });
    const r = await engine.deliver([{ id: 'f', key: 'o1', type: STEP_FAILED, payload: { step: 'reserveInventory', attempt: 1, retryable: false, reason: 'unknown sku' } }]);
    expect(r[0]).toMatchObject({ status: 'applied', state: 'CANCELED' });
    // The timeline records the event the machine took (the StepFailed stays as `via`), so the stream replays to the snapshot.
    const records = (await readStream(db, 'order-o1')).filter((m) => m.type === TRANSITION);
    expect(records.at(-1)?.data).toMatchObject({ trigger: { type: 'InventoryInsufficient', via: STEP_FAILED, messageId: 'f' } });
    const folded = foldEvents(deciderFromMachine(machine), records as unknown as MachineRecord[]);
    expect(folded?.state).toBe('CANCELED');
    expect(folded?.context).toEqual((await engine.getSaga('o1'))?.snapshot.context);
  });

  it('parks a saga whose compensation keeps failing in COMPENSATION_FAILED with an alert; an operator retry finishes it', async () => {
    const { db, engine, clock, services } = await setup({ retry: { maxAttempts: 2, initialDelayMs: 100 } }, { payment: { refuse: 1 }, compensation: { transient: 1 } });
    await place(engine, 'o1');
    await runUntilQuiet({ db, engine, services, clock });
    const parked = await engine.getSaga('o1');
    expect(parked).toMatchObject({ status: 'parked', snapshot: { state: 'COMPENSATION_FAILED' } });
    const alerts = await db.query<{ kind: string; resolved_at: unknown }>('SELECT kind, resolved_at FROM ordo_saga_alerts');
    expect(alerts.rows).toEqual([{ kind: 'saga-parked', resolved_at: null }]);
    // The service is fixed; the operator retries.
    const fixed = new SimulatedServices({ seed: 1 });
    expect(await engine.retryCompensation('o1')).toMatchObject({ status: 'applied', state: 'REVERTING_RESERVATION' });
    await runUntilQuiet({ db, engine, services: fixed, clock });
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('CANCELED');
    expect((await db.query('SELECT 1 FROM ordo_saga_alerts WHERE resolved_at IS NULL')).rows).toHaveLength(0);
    expect((await checkOrderOutcomes(db)).violations).toEqual([]);
    await expect(engine.retryCompensation('o1')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('keeps timers across a restart: a new engine on the same database fires them', async () => {
    const { db, engine, clock } = await setup();
    await place(engine, 'o1');
    await engine.stop();
    await clock.advance(10_000); // nothing listens while the engine is down
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('INVENTORY_RESERVING');
    const again = createSagaEngine({ db, machines: [machine], clock, pollIntervalMs: false });
    await again.start();
    cleanup(() => again.stop());
    expect(await again.fireDueTimers()).toBe(1);
    expect((await again.getSaga('o1'))?.snapshot.state).toBe('REVERTING_RESERVATION');
  });

  it('commits many instances in one transaction (group commit)', async () => {
    const { db, engine } = await setup();
    const ids = Array.from({ length: 50 }, (_, i) => `g${i}`);
    await Promise.all(ids.map((id) => engine.startSaga(id, 'order', sampleOrder(id))));
    await engine.deliver(ids.map((id) => ({ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} })));
    const tx = await db.query<{ n: string }>(`SELECT count(DISTINCT tx_id)::text AS n FROM ordo_messages WHERE type = 'ReserveInventory'`);
    expect(Number(tx.rows[0]?.n)).toBe(1);
    const started = await db.query<{ n: string }>(`SELECT count(DISTINCT tx_id)::text AS n FROM ordo_messages WHERE data->>'from' = ''`);
    // Concurrent startSaga calls share transactions too (fewer transactions than sagas).
    expect(Number(started.rows[0]?.n)).toBeLessThan(ids.length);
  });

  it('resends an unanswered command, and lets the machine timeout decide when it stays unanswered', async () => {
    const { db, engine, clock, services } = await setup({ retry: { maxAttempts: 3, initialDelayMs: 100, replyTimeoutMs: 1000, jitter: 0 } }, { inventory: { drop: 1 } });
    await place(engine, 'o1');
    await runUntilQuiet({ db, engine, services, clock });
    const s = await readStream(db, 'order-o1');
    expect(s.filter((m) => m.type === 'ReserveInventory').map((m) => m.metadata['attempt'])).toEqual([1, 2, 3]);
    // After three unanswered sends the machine's reservationTimeout compensated.
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('CANCELED');
    expect((await checkOrderOutcomes(db)).violations).toEqual([]);
  });

  it('finishes 50 orders against faulty services with every invariant kept', async () => {
    const { db, engine, clock, services } = await setup(
      { retry: { maxAttempts: 4, initialDelayMs: 200, replyTimeoutMs: 2000 } },
      { seed: 11, inventory: { drop: 0.1, transient: 0.1, lostReply: 0.1, refuse: 0.1 }, payment: { drop: 0.1, transient: 0.1, lostReply: 0.1, refuse: 0.1 }, shipping: { drop: 0.1, transient: 0.1, refuse: 0.05 }, compensation: { drop: 0.1, transient: 0.2, permanent: 0.05 } },
    );
    for (let i = 0; i < 50; i++) await place(engine, `o${i}`);
    await runUntilQuiet({ db, engine, services, clock });
    const report = await checkOrderOutcomes(db);
    expect(report.violations).toEqual([]);
    expect(report.total).toBe(50);
    expect(Object.keys(report.byState).sort()).toEqual(expect.arrayContaining(['CANCELED', 'DELIVERED']));
    await pumpServicesUntilIdle({ db, engine, services });
  });
});
