import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDelays } from '../machine/index.js';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import {
  CrashInjectedError,
  SIMULATION_MIGRATION_SCOPE,
  SimulatedServices,
  VirtualClock,
  checkOrderOutcomes,
  crashingDb,
  pgliteFactory,
  runUntilQuiet,
  sampleOrder,
  seededRandom,
  simulationMigrations,
  type Fate,
  type SimCommand,
} from '../testing/index.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './index.js';

const machine = withDelays(orderMachine, { reservationTimeout: '10s', paymentTimeout: '10s', compensationTimeout: '1m' });

/** One saga through a retry, a resend after a lost reply, a refused shipment and both compensations. */
const script = (cmd: SimCommand): Fate | undefined => {
  const attempt = cmd.metadata['attempt'];
  const plan: Record<string, Fate | undefined> = {
    'ReserveInventory#1': 'transient',
    'ProcessPayment#1': 'lostReply',
    'PrepareShipment#1': 'refuse',
    'RefundPayment#1': 'drop',
  };
  return plan[`${cmd.type}#${String(attempt)}`] ?? 'ok';
};

describe('exhaustive crash points (PGlite)', () => {
  let db: Db;
  let close = async () => {};
  beforeAll(async () => {
    const f = await pgliteFactory(async (d) => {
      await migrateStore(d);
      await migrate(d, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
      await migrate(d, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
    });
    const fresh = await f.fresh();
    db = fresh.db;
    close = async () => {
      await fresh.close();
      await f.close();
    };
  });
  afterAll(() => close());

  const services = new SimulatedServices({ seed: 5, script });
  const options = { machines: [machine], random: seededRandom(9), pollIntervalMs: false as const, migrate: false, retry: { maxAttempts: 4, initialDelayMs: 100, replyTimeoutMs: 1000 } };

  /** Places the order (a client retries both calls until they succeed) and runs everything to the end. */
  async function run(on: Db, clock: VirtualClock, id: string): Promise<void> {
    const engine = createSagaEngine({ ...options, db: on, clock });
    try {
      await engine.start();
      await engine.startSaga(id, 'order', sampleOrder(id));
      await engine.deliver([{ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} }]);
      await runUntilQuiet({ db: on, engine, services, clock });
    } finally {
      await engine.stop();
    }
  }

  it('ends in the same state with the same side effects whichever write the process dies after', { timeout: 600_000 }, async () => {
    const counting = crashingDb(db);
    await run(counting, new VirtualClock(), 'base');
    const writes = counting.writes;
    const baseline = await checkOrderOutcomes(db);
    expect(baseline.violations).toEqual([]);
    expect(baseline.fingerprint['base']).toBe('CANCELED reserved=true released=true charged=true refunded=true shipped=false');
    expect(writes).toBeGreaterThan(20);

    for (let n = 1; n <= writes; n++) {
      const id = `crash-${n}`;
      const clock = new VirtualClock();
      const dying = crashingDb(db, n);
      await expect(run(dying, clock, id)).rejects.toBeInstanceOf(CrashInjectedError);
      expect(dying.crashed).toBe(true);
      await run(db, clock, id); // the restarted process
      const report = await checkOrderOutcomes(db);
      expect(report.violations, `crash after write ${n}`).toEqual([]);
      expect(report.fingerprint[id], `crash after write ${n}`).toBe(baseline.fingerprint['base']);
    }
  });
});
