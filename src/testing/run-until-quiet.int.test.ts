import { afterEach, describe, expect, it } from 'vitest';
import { withDelays } from '../machine/index.js';
import { migrate, migrateStore } from '../store/index.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from '../runtime/index.js';
import { orderMachine } from '../shop/index.js';
import { freshPostgres } from './fresh-database.js';
import { runUntilQuiet, sampleOrder } from './run-until-quiet.js';
import { SimulatedServices } from './simulated-services.js';
import { SIMULATION_MIGRATION_SCOPE, simulationMigrations } from './simulated-services-schema.js';
import { VirtualClock } from './virtual-clock.js';

const machine = withDelays(orderMachine, { reservationTimeout: '10s', paymentTimeout: '10s', compensationTimeout: '1m' });

/*
 * Why saga-engine.int.test.ts once ended orders CANCELED or COMPENSATION_FAILED on the
 * server: the log is read only below the oldest open transaction (then the server's, in
 * any database: another test file running beside it; since store migration 6, this
 * database's). runUntilQuiet took "nothing readable" for "quiet" and jumped the virtual
 * clock past every reply deadline. An open transaction of the same database holds the
 * log back under either rule, so that is what this test opens.
 */
describe('runUntilQuiet on a shared PostgreSQL server', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('never moves the clock while committed commands are held back by an older open transaction', async () => {
    const d = await freshPostgres('quiet');
    cleanup.push(() => d.close());
    await migrateStore(d.db);
    await migrate(d.db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    await migrate(d.db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
    // A transaction takes its id before the order is written, and stays open.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let taken!: () => void;
    const idTaken = new Promise<void>((r) => (taken = r));
    const holder = d.db.transaction(async (tx) => {
      await tx.query('SELECT pg_current_xact_id()');
      taken();
      await released;
    });
    cleanup.push(async () => {
      release();
      await holder;
    });
    await idTaken;

    const clock = new VirtualClock();
    const engine = createSagaEngine({ db: d.db, machines: [machine], clock, pollIntervalMs: false });
    await engine.start();
    cleanup.push(() => engine.stop());
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    await engine.deliver([{ id: 'create:o1', key: 'o1', type: 'OrderCreated', payload: {} }]);
    const services = new SimulatedServices({ seed: 1 });
    const start = clock.now();

    await expect(runUntilQuiet({ db: d.db, engine, services, clock, heldBackTimeoutMs: 300 })).rejects.toMatchObject({ code: 'LOG_HELD_BACK' });
    expect(clock.now()).toBe(start);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('INVENTORY_RESERVING');

    release();
    await holder;
    await runUntilQuiet({ db: d.db, engine, services, clock });
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('DELIVERED');
  });
});
