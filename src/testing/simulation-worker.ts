import { withDelays, type Duration } from '../machine/index.js';
import { migrate, openPglite, openPostgres, type Db } from '../store/index.js';
import { createSagaEngine, type SagaEngineOptions } from '../runtime/index.js';
import { SIMULATION_MIGRATION_SCOPE, simulationMigrations } from './simulated-services-schema.js';
import { SimulatedServices, type SimulationOptions } from './simulated-services.js';
import { pumpServicesOnce } from './service-pump.js';
import { sampleOrder } from './run-until-quiet.js';

/** What a simulation worker process runs: one shop's order sagas against simulated services. */
export interface SimulationWorkerConfig {
  /** A PostgreSQL URL, or a PGlite data directory. */
  readonly postgresUrl?: string;
  readonly pgliteDir?: string;
  readonly orders: number;
  /** Where the order machine comes from (an absolute module path and its export), e.g. src/shop/index.ts and `orderMachine`. */
  readonly machineModule: string;
  readonly machineExport: string;
  /** Delay overrides, so a run with timeouts finishes in seconds. */
  readonly delays?: Readonly<Record<string, Duration>>;
  readonly faults: SimulationOptions;
  /** Progress lines on stdout every this many ms. */
  readonly reportEveryMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Short real-time delays so a run of 1,000 sagas with faults finishes in seconds. */
export const simulationDelays = { reservationTimeout: '20s', paymentTimeout: '20s', compensationTimeout: '60s' } as const;

type AnyMachine = SagaEngineOptions['machines'][number];

/**
 * Places the orders (idempotently: a restarted worker places them again and the engine
 * finds them there), then runs engine + services until every saga has stopped moving,
 * printing JSON progress lines. Meant to be killed at any moment and started again.
 */
export async function runSimulationWorker(config: SimulationWorkerConfig, out: (line: object) => void): Promise<void> {
  const mod = (await import(config.machineModule)) as Record<string, AnyMachine | undefined>;
  const base = mod[config.machineExport];
  if (!base) throw new Error(`${config.machineModule} has no export ${config.machineExport}`);
  const machine = withDelays(base, config.delays ?? simulationDelays);
  const db: Db = config.postgresUrl ? openPostgres({ url: config.postgresUrl, max: 8 }) : await openPglite({ dataDir: config.pgliteDir ?? '.ordo/simulation' });
  const engine = createSagaEngine({
    db,
    machines: [machine],
    pollIntervalMs: 25,
    retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 1000, replyTimeoutMs: 3000 },
  });
  await engine.start();
  await migrate(db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
  out({ event: 'ready' });
  const ids = Array.from({ length: config.orders }, (_, i) => `o${String(i).padStart(5, '0')}`);
  const placed = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_inbox WHERE message_id LIKE 'create:%'`);
  if (Number(placed.rows[0]?.n) < ids.length) {
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      // Each order and its OrderCreated in one commit (a kill between them cannot strand it).
      await Promise.all(chunk.map((id) => engine.startSaga(id, 'order', sampleOrder(id, 1 + (i % 3)), { first: { id: `create:${id}`, type: 'OrderCreated', payload: {} } })));
    }
  }
  out({ event: 'placed' });
  const services = new SimulatedServices(config.faults);
  let lastReport = 0;
  // Replies this process's engine applied: with several workers on one database, each shows it took a share.
  let pumped = 0;
  for (;;) {
    const n = await pumpServicesOnce({ db, engine, services, batchSize: 500 });
    pumped += n;
    const now = Date.now();
    if (n === 0 || now - lastReport > (config.reportEveryMs ?? 1000)) {
      lastReport = now;
      const s = await db.query<{ status: string; n: string }>('SELECT status, count(*)::text AS n FROM ordo_saga_instances GROUP BY status');
      const counts = Object.fromEntries(s.rows.map((r) => [r.status, Number(r.n)]));
      const timers = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM ordo_saga_timers');
      const idle = n === 0 && (counts['active'] ?? 0) === 0 && Number(timers.rows[0]?.n) === 0;
      out({ event: 'progress', counts, timers: Number(timers.rows[0]?.n), idle, pumped });
      if (idle) break;
    }
    if (n === 0) await sleep(20);
  }
  await engine.stop();
  await db.close();
  out({ event: 'done' });
}
