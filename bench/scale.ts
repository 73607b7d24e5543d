import { randomBytes } from 'node:crypto';
import { createSagaEngine, runSagaRetention, startRetention, type SagaEngine } from '../src/runtime/index.js';
import { progressBar } from '../src/cli/progress-bar.js';
import { failUsage } from '../src/cli/usage-error.js';
import { orderMachine } from '../src/shop/index.js';
import { dropPostgresDatabase, ensurePostgresDatabase, LOG_START, openPostgres, saveCheckpoint, type Db } from '../src/store/index.js';
import type { BenchOptions } from './bench-options.js';
import { machineDescription, progress, summarise, type BenchResult, type BenchRun } from './result.js';
import { serviceLoop, startOrderSaga, STEPS_PER_SAGA } from './saga-ordo.js';

/*
 * `ordo bench scale`: the order saga driven to a million completed sagas (at --scale 1) on
 * the PostgreSQL server, 256 in flight, with retention running beside it as a service
 * would run it (finished sagas leave after 10 s, inbox entries after 60 s). Reported per
 * 100k sagas: throughput, latency, table sizes and the process's RSS, beside 100k sagas that
 * wait all through the run (at --scale 1; open orders). The reference is
 * the run's own first 100k: a store that grows with its history slows down, one with
 * retention should not (targets: last ≥ 90% of first, RSS flat after warm-up).
 */

const IN_FLIGHT = 256;
const TABLES = ['ordo_messages', 'ordo_saga_instances', 'ordo_inbox', 'ordo_saga_timers', 'ordo_checkpoints'];

async function tableSizes(db: Db): Promise<Record<string, number>> {
  const r = await db.query<{ t: string; bytes: string; dead: string | null }>(
    `SELECT c.relname AS t, pg_total_relation_size(c.oid)::text AS bytes, s.n_dead_tup::text AS dead
     FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = ANY($1::text[])`,
    [TABLES],
  );
  const out: Record<string, number> = {};
  let total = 0;
  let dead = 0;
  for (const row of r.rows) {
    out[`${row.t}MiB`] = mib(Number(row.bytes));
    total += Number(row.bytes);
    dead += Number(row.dead ?? 0);
  }
  return { tablesMiB: mib(total), deadRows: dead, ...out };
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/**
 * Sagas that wait all through the run, as a shop's open orders do (for a payment, a
 * carrier): copies of one saga started and left in its first state, each with its timer
 * moved to tomorrow. They never finish, so retention keeps them; every batch runs beside them.
 */
async function addWaitingSagas(engine: SagaEngine, db: Db, n: number): Promise<void> {
  const template = 'waiting-template';
  await startOrderSaga(engine, template);
  await db.query(
    `INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, pending, revision, stream_version)
     SELECT 'waiting-' || g, machine_id, machine_version, state, status, snapshot, pending, revision, stream_version
     FROM ordo_saga_instances, generate_series(1, $2::integer) AS g WHERE id = $1`,
    [template, n],
  );
  await db.query(
    `INSERT INTO ordo_saga_timers (saga_id, timer_id, kind, purpose, due_at)
     SELECT 'waiting-' || g, timer_id, kind, purpose, due_at + 86400000 FROM ordo_saga_timers, generate_series(1, $2::integer) AS g WHERE saga_id = $1`,
    [template, n],
  );
  await db.query('ANALYZE ordo_saga_instances, ordo_saga_timers');
}

export default async function scaleBench(options: BenchOptions): Promise<BenchResult> {
  const total = Math.max(20_000, Math.round(1_000_000 * options.scale));
  // ORDO_BENCH_SCALE_WAITING: sagas left waiting beside the run (default 100k at --scale 1).
  const waiting = Number(process.env['ORDO_BENCH_SCALE_WAITING'] ?? Math.round(100_000 * options.scale));
  if (!Number.isInteger(waiting) || waiting < 0) failUsage(`ORDO_BENCH_SCALE_WAITING must be a whole number ≥ 0, got "${String(process.env['ORDO_BENCH_SCALE_WAITING'])}"`);
  const slice = Math.max(10_000, Math.round(total / 10));
  const name = `ordo_bench_scale_${randomBytes(3).toString('hex')}`;
  const url = await ensurePostgresDatabase(options.postgresUrl, name);
  const db = openPostgres({ url, max: 10, applicationName: 'ordo-bench-scale' });
  const runs: BenchRun[] = [];
  const rss: number[] = [];
  try {
    const engine = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: 200, batchSize: 500, concurrency: 4 });
    await engine.start();
    if (waiting > 0) {
      progress(`${waiting} sagas waiting beside the run (a timer due tomorrow each)`);
      await addWaitingSagas(engine, db, waiting);
    }
    await saveCheckpoint(db, 'bench-services', LOG_START);
    const policy = { finishedAfterMs: 10_000, inboxAfterMs: 60_000, mode: 'delete' as const, batchSize: 2000 };
    let retired = 0;
    let vacuums = 0;
    const retention = startRetention({ round: () => runSagaRetention(db, policy), intervalMs: 2_000, onReport: (r) => {
        retired += r.sagas;
        if (r.vacuumed.length > 0) vacuums += 1;
      }, onError: (err) => progress(`retention round failed: ${String(err)}`) });
    const prefix = randomBytes(3).toString('hex');
    const startedAt = new Map<string, number>();
    let next = 0;
    let done = 0;
    let sliceLatencies: number[] = [];
    let sliceStart = performance.now();
    let lastTick = sliceStart;
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (finish = r));
    const bar = progressBar('  sagas', total);
    const rssTimer = setInterval(() => rss.push(process.memoryUsage().rss), 5_000);
    const pendingSlices: Promise<void>[] = [];
    const launch = () => {
      if (next >= total) return;
      const id = `${prefix}-${next++}`;
      startedAt.set(id, performance.now());
      void startOrderSaga(engine, id);
    };
    const loop = serviceLoop(
      db,
      engine,
      (id) => {
        const s = startedAt.get(id);
        if (s === undefined) return;
        startedAt.delete(id);
        sliceLatencies.push(performance.now() - s);
        done += 1;
        if (done % 1000 === 0) {
          const now = performance.now();
          bar.update(done, `${Math.round(1000 / ((now - lastTick) / 1000))} sagas/s, retired ${retired}`);
          lastTick = now;
        }
        if (done % slice === 0 || done === total) {
          const seconds = (performance.now() - sliceStart) / 1000;
          const latencies = sliceLatencies;
          const upTo = done;
          const memory = process.memoryUsage().rss;
          pendingSlices.push(
            tableSizes(db).then((sizes) => {
              runs.push(summarise(`ordo sagas ${upTo - latencies.length + 1}–${upTo}`, latencies.length, seconds, latencies, { upTo, rssMiB: Math.round(memory / 2 ** 20), stepsPerSec: (latencies.length * STEPS_PER_SAGA) / seconds, retiredSoFar: retired, vacuumRoundsSoFar: vacuums, ...sizes }));
            }),
          );
          sliceLatencies = [];
          sliceStart = performance.now();
        }
        if (done === total) finish();
        else launch();
      },
      () => done >= total,
      'bench-services',
    );
    for (let i = 0; i < IN_FLIGHT; i++) launch();
    await allDone;
    bar.end(`retired ${retired}`);
    clearInterval(rssTimer);
    await loop;
    await Promise.all(pendingSlices);
    await retention.stop();
    await engine.stop();
  } finally {
    await db.close();
    await dropPostgresDatabase(options.postgresUrl, name);
  }
  runs.sort((a, b) => Number(a['upTo']) - Number(b['upTo']));
  const first = runs[0];
  const last = runs.at(-1);
  const lastVsFirst = first && last && first.opsPerSec > 0 ? last.opsPerSec / first.opsPerSec : 0;
  // Warm-up is the first slice: RSS at its end against RSS at the end of the run.
  const rssGrowth = first && last ? Number(last['rssMiB']) / Number(first['rssMiB']) : 0;
  const warm = rss.slice(Math.floor(rss.length / 5));
  const rssRange = warm.length > 0 ? Math.max(...warm) / Math.min(...warm) : 1;
  const throughputMet = lastVsFirst >= 0.9;
  const rssMet = rssGrowth >= 0.9 && rssGrowth <= 1.1;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  progress(`targets: last slice ${(lastVsFirst * 100).toFixed(0)}% of the first (≥ 90%: ${met(throughputMet)}); RSS ×${rssGrowth.toFixed(2)} after warm-up (±10%: ${met(rssMet)})`);
  return {
    suite: 'scale',
    machine: machineDescription(),
    runs,
    ratios: {
      lastVsFirstSlice: lastVsFirst,
      rssGrowth,
      rssFlatness: rssRange > 0 ? 1 / rssRange : 0,
      throughputTargetMet: throughputMet ? 1 : 0,
      rssTargetMet: rssMet ? 1 : 0,
    },
    notes: [
      `${total} order sagas (${STEPS_PER_SAGA} steps each), ${IN_FLIGHT} in flight, reported per ${slice}; the reference is the first slice of the same run`,
      `${waiting} more sagas wait all through the run, each with a timer due tomorrow (ORDO_BENCH_SCALE_WAITING): every batch runs beside them, as beside a shop's open orders`,
      'retention beside it: finished sagas leave 10 s after they finish (delete mode), inbox entries after 60 s, and the round vacuums the tables where autovacuum does not; the instant services keep a checkpoint like a relay',
      `target throughput: last slice ≥ 90% of the first: lastVsFirstSlice ${lastVsFirst.toFixed(2)}, ${met(throughputMet)}`,
      `target RSS flat after warm-up (the first slice): rssGrowth = RSS at the end ÷ RSS after the first slice = ${rssGrowth.toFixed(2)}, within ±10%: ${met(rssMet)}`,
      `rssFlatness = min ÷ max RSS after the first fifth of the run (${warm.length} samples, every 5 s; 1 = flat)`,
    ],
  };
}
