import { randomBytes } from 'node:crypto';
import { dropPostgresDatabase, ensurePostgresDatabase, openPostgres } from '../src/store/index.js';
import { machineDescription, progress, type BenchResult, type BenchRun } from './result.js';
import { meteringCpu } from './cpu-meter.js';
import { runRawPostgres } from './raw-postgres.js';
import { runDbos, startDbos, stopDbos } from './saga-dbos.js';
import { runOrdoSagas, STEPS_PER_SAGA } from './saga-ordo.js';
import type { BenchOptions } from './bench-options.js';

/*
 * `ordo bench saga`: ordo's order saga and DBOS Transact's equivalent workflow on the same
 * PostgreSQL server, closed loop at 1, 16 and 64 in flight, plus ordo alone at 256 (where
 * group commit shows). Reference floor in the same run: raw UPDATE+INSERT transactions at
 * the same levels; the best raw level is the reference for steps/s. Durability settings
 * stay as the server has them (synchronous_commit, fsync); ordo gets its throughput from
 * group commit (many instances' transitions per transaction).
 */

const LEVELS = [1, 16, 64] as const;
/** Every run's first second is not measured (connections open, statements are prepared, code compiles), for every system alike. */
const WARMUP_SECONDS = 1;
const ORDO_ONLY_LEVEL = 256;

const at = (runs: readonly BenchRun[], system: string, inFlight: number): BenchRun | undefined => runs.find((r) => r['system'] === system && r['inFlight'] === inFlight);

export default async function sagaBench(options: BenchOptions): Promise<BenchResult> {
  const id = randomBytes(3).toString('hex');
  const names = { ordo: `ordo_bench_saga_${id}`, dbos: `ordo_bench_dbos_${id}`, raw: `ordo_bench_raw_${id}` };
  const seconds = Math.max(2, 8 * options.scale);
  const runs: BenchRun[] = [];
  const ordoUrl = await ensurePostgresDatabase(options.postgresUrl, names.ordo);
  const dbosUrl = await ensurePostgresDatabase(options.postgresUrl, names.dbos);
  const rawUrl = await ensurePostgresDatabase(options.postgresUrl, names.raw);
  const db = openPostgres({ url: ordoUrl, max: 8, applicationName: 'ordo-bench-saga' });
  let dbosStarted = false;
  try {
    progress('starting DBOS Transact (creates its system tables)');
    await startDbos(dbosUrl);
    dbosStarted = true;
    const steps = LEVELS.length * 3 + 1;
    let step = 0;
    const say = (what: string) => progress(`[${++step}/${steps}] ${what}, ${WARMUP_SECONDS} + ${seconds.toFixed(0)} s`);
    for (const n of LEVELS) {
      say(`raw PostgreSQL, ${n} in flight`);
      runs.push(await meteringCpu(() => runRawPostgres(rawUrl, n, seconds, WARMUP_SECONDS)));
      say(`DBOS workflows, ${n} in flight`);
      runs.push(await meteringCpu(() => runDbos(n, seconds, `dbos-${id}-${n}`, WARMUP_SECONDS)));
      say(`ordo sagas, ${n} in flight`);
      runs.push(await meteringCpu(() => runOrdoSagas(db, n, seconds, `ordo-${id}-${n}`, WARMUP_SECONDS)));
    }
    say(`ordo sagas, ${ORDO_ONLY_LEVEL} in flight`);
    runs.push(await meteringCpu(() => runOrdoSagas(db, ORDO_ONLY_LEVEL, seconds, `ordo-${id}-${ORDO_ONLY_LEVEL}`, WARMUP_SECONDS)));
  } finally {
    if (dbosStarted) await stopDbos();
    await db.close();
    for (const name of Object.values(names)) await dropPostgresDatabase(options.postgresUrl, name);
  }

  const ratios: Record<string, number> = {};
  for (const n of LEVELS) {
    const ordo = at(runs, 'ordo', n);
    const dbos = at(runs, 'dbos', n);
    if (ordo && dbos && dbos.opsPerSec > 0) ratios[`sagasVsDbos@${n}`] = ordo.opsPerSec / dbos.opsPerSec;
  }
  ratios['sagasVsDbos'] = ratios['sagasVsDbos@16'] ?? 0;
  const ordo16 = at(runs, 'ordo', 16);
  const dbos16 = at(runs, 'dbos', 16);
  if (ordo16 && dbos16 && ordo16.p99Ms > 0) ratios['dbosP50VsOrdoP99@16'] = dbos16.p50Ms / ordo16.p99Ms;
  // CPU per saga (this process + PostgreSQL), DBOS's over ordo's: above 1, ordo's saga costs less.
  const cpuOf = (r: BenchRun | undefined) => (r && typeof r['postgresCpuMsPerOp'] === 'number' ? Number(r['nodeCpuMsPerOp']) + r['postgresCpuMsPerOp'] : undefined);
  for (const n of [...LEVELS]) {
    const o = cpuOf(at(runs, 'ordo', n));
    const d = cpuOf(at(runs, 'dbos', n));
    if (o && d) ratios[`cpuPerSagaDbosVsOrdo@${n}`] = d / o;
  }
  const bestRaw = runs.filter((r) => r['system'] === 'raw').reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
  const bestOrdo = runs.filter((r) => r['system'] === 'ordo').reduce((a, b) => (Number(b['stepsPerSec']) > Number(a['stepsPerSec']) ? b : a));
  ratios['stepsVsRawPostgres'] = Number(bestOrdo['stepsPerSec']) / bestRaw.opsPerSec;

  return {
    suite: 'saga',
    machine: machineDescription(),
    runs,
    ratios,
    notes: [
      `a saga is the order run to DELIVERED: ${STEPS_PER_SAGA} durable transitions in ordo, 4 checkpointed steps plus the workflow's own status rows in DBOS`,
      `sagasVsDbos = ordo sagas/s ÷ DBOS workflows/s at 16 in flight (per level: sagasVsDbos@N); dbosP50VsOrdoP99@16 above 1 means ordo's p99 is below DBOS's p50`,
      `stepsVsRawPostgres = ordo's best steps/s (${Number(bestOrdo['stepsPerSec']).toFixed(0)} at ${String(bestOrdo['inFlight'])} in flight) ÷ the best raw transaction rate (${bestRaw.opsPerSec.toFixed(0)}/s at ${String(bestRaw['inFlight'])} in flight)`,
      'each ordo step also writes its inbox entry, its timeline + outbox messages and its timers, in the same transaction',
      'nodeCpuMsPerOp / postgresCpuMsPerOp: CPU per saga (workflow, transaction) of this process (all its threads) and of the local PostgreSQL server (from /proc; absent elsewhere), over the whole run, its start and stop included; cpuPerSagaDbosVsOrdo@N above 1 means an ordo saga costs less CPU than a DBOS workflow. Both systems share this machine\'s cores with PostgreSQL: where they are busy, sagas/s follows CPU per saga',
      `closed loop: each of N callers starts a new saga/workflow when its last one finished, for ${WARMUP_SECONDS} s unmeasured (warm-up: connections, prepared statements, compiled code) and then ${seconds.toFixed(0)} s measured per run; rates and percentiles count what started in the measured window, for every system alike`,
    ],
  };
}
