import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropPostgresDatabase, ensurePostgresDatabase, globalPositionOf, LOG_START, openPostgres, readAll, type Db, type GlobalPosition } from '../src/store/index.js';
import { createSagaEngine, type IncomingMessage, type SagaEngine } from '../src/runtime/index.js';
import { orderMachine } from '../src/shop/index.js';
import { machineDescription, progress, summarise, type BenchResult, type BenchRun } from './result.js';
import type { BenchOptions } from './suites.js';

/*
 * `ordo bench saga`: order sagas run to DELIVERED by the engine on the PostgreSQL server,
 * against instant simulated services that read the engine's commands from the message log
 * (the outbox) and answer at once. Reference in the same run: raw PostgreSQL doing one
 * UPDATE + one INSERT per transaction, with as many transactions in flight as there are
 * sagas in flight. Ratio: saga steps (transitions) per second ÷ raw transactions per second.
 * synchronous_commit and fsync stay as the server has them; the engine gets its throughput
 * from group commit (many instances' transitions per transaction).
 */

const IN_FLIGHT = 256;
const STEPS_PER_SAGA = 6; // start, OrderCreated, InventoryReserved, PaymentApproved, PackageShipped, DeliveryConfirmed
const RAW_CONNECTIONS = 32;

const REPLIES: Record<string, (orderId: string) => { type: string; payload: object }[]> = {
  ReserveInventory: (o) => [{ type: 'InventoryReserved', payload: { reservationId: `r-${o}` } }],
  ProcessPayment: (o) => [{ type: 'PaymentApproved', payload: { paymentId: `p-${o}` } }],
  PrepareShipment: (o) => [
    { type: 'PackageShipped', payload: { trackingNumber: `t-${o}` } },
    { type: 'DeliveryConfirmed', payload: {} },
  ],
};

/** Instant services: follow the log, answer every command, and notice finished orders. */
async function serviceLoop(db: Db, engine: SagaEngine, onDelivered: (orderId: string) => void, stop: () => boolean): Promise<void> {
  let at: GlobalPosition = LOG_START;
  const inflight: Promise<unknown>[] = [];
  while (!stop()) {
    const messages = await readAll(db, at, 2000);
    const last = messages.at(-1);
    if (!last) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    at = globalPositionOf(last);
    const replies: IncomingMessage[] = [];
    for (const m of messages) {
      const key = typeof m.metadata['key'] === 'string' ? m.metadata['key'] : '';
      if (m.type === 'OrderDelivered') onDelivered(key);
      const answer = m.metadata['kind'] === 'command' ? REPLIES[m.type] : undefined;
      if (answer) for (const r of answer(key)) replies.push({ id: `${m.id}:${r.type}`, key, type: r.type, payload: r.payload });
    }
    // Do not wait: the engine groups these with the next round's replies.
    if (replies.length > 0) inflight.push(engine.deliver(replies));
    if (inflight.length > 8) await inflight.shift();
  }
  await Promise.all(inflight);
}

async function runSagas(db: Db, total: number): Promise<{ run: BenchRun; steps: number }> {
  const engine = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: 200, batchSize: 500, concurrency: 4 });
  await engine.start();
  const startedAt = new Map<string, number>();
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (finish = r));
  const prefix = randomBytes(3).toString('hex');
  const launch = () => {
    if (next >= total) return;
    const id = `${prefix}-${next++}`;
    startedAt.set(id, performance.now());
    void engine
      .startSaga(id, 'order', { orderId: id, customerId: 'c', items: [{ sku: 's', quantity: 1, unitPrice: 100 }], total: 100 })
      .then(() => engine.deliver([{ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} }]));
  };
  const t0 = performance.now();
  const loop = serviceLoop(
    db,
    engine,
    (id) => {
      const s = startedAt.get(id);
      if (s === undefined) return;
      latencies.push(performance.now() - s);
      startedAt.delete(id);
      done += 1;
      if (done === total) finish();
      else launch();
    },
    () => done >= total,
  );
  for (let i = 0; i < IN_FLIGHT; i++) launch();
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  await loop;
  await engine.stop();
  const steps = total * STEPS_PER_SAGA;
  return { run: summarise('ordo saga (completed sagas)', total, seconds, latencies, { stepsPerSec: steps / seconds, inFlight: IN_FLIGHT }), steps };
}

async function runRaw(url: string, seconds: number): Promise<BenchRun> {
  const pool = new pg.Pool({ connectionString: url, max: RAW_CONNECTIONS });
  pool.on('error', () => undefined); // an idle connection dropped by the server: the next query reports it, the process does not die
  await pool.query('DROP TABLE IF EXISTS bench_raw_state, bench_raw_log');
  await pool.query('CREATE TABLE bench_raw_state (id text PRIMARY KEY, state text NOT NULL, revision integer NOT NULL, snapshot jsonb NOT NULL)');
  await pool.query('CREATE TABLE bench_raw_log (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream text NOT NULL, type text NOT NULL, data jsonb NOT NULL)');
  await pool.query(`INSERT INTO bench_raw_state SELECT 's' || g, 'A', 0, '{}'::jsonb FROM generate_series(1, $1) g`, [IN_FLIGHT]);
  const latencies: number[] = [];
  let ops = 0;
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, i) => {
      const id = `s${i + 1}`;
      while (performance.now() < until) {
        const s = performance.now();
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await c.query(`UPDATE bench_raw_state SET state = 'B', revision = revision + 1, snapshot = $2::jsonb WHERE id = $1`, [id, JSON.stringify({ state: 'B', n: ops })]);
          await c.query('INSERT INTO bench_raw_log (stream, type, data) VALUES ($1, $2, $3::jsonb)', [id, 'Step', JSON.stringify({ n: ops })]);
          await c.query('COMMIT');
        } finally {
          c.release();
        }
        ops += 1;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await pool.end();
  return summarise(`raw PostgreSQL (UPDATE+INSERT per tx, ${IN_FLIGHT} in flight over ${RAW_CONNECTIONS} connections)`, ops, elapsed, latencies);
}

export default async function sagaBench(options: BenchOptions): Promise<BenchResult> {
  const name = `ordo_bench_saga_${randomBytes(3).toString('hex')}`;
  const url = await ensurePostgresDatabase(options.postgresUrl, name);
  const db = openPostgres({ url, max: 8, applicationName: 'ordo-bench-saga' });
  try {
    const total = Math.max(200, Math.round(3000 * options.scale));
    progress(`raw PostgreSQL reference (${IN_FLIGHT} transactions in flight)`);
    const raw1 = await runRaw(url, 5 * Math.min(1, options.scale) + 1);
    progress(`${total} order sagas, ${IN_FLIGHT} in flight`);
    const sagas = await runSagas(db, total);
    progress('raw PostgreSQL reference again (drift check)');
    const raw2 = await runRaw(url, 5 * Math.min(1, options.scale) + 1);
    const rawPerSec = (raw1.opsPerSec + raw2.opsPerSec) / 2;
    const stepsPerSec = Number(sagas.run['stepsPerSec']);
    return {
      suite: 'saga',
      machine: machineDescription(),
      runs: [raw1, sagas.run, raw2],
      ratios: { stepsVsRawPostgres: stepsPerSec / rawPerSec },
      notes: [
        `a saga step is one transition (${STEPS_PER_SAGA} per order to DELIVERED); ordo did ${stepsPerSec.toFixed(0)} steps/s`,
        'raw reference = mean of the runs before and after the sagas',
        'each ordo step also writes its inbox entry, its timeline + outbox messages and its timers, in the same transaction',
      ],
    };
  } finally {
    await db.close();
    await dropPostgresDatabase(options.postgresUrl, name);
  }
}
