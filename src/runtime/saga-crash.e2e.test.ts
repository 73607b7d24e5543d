import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openPglite, openPostgres, type Db } from '../store/index.js';
import { checkOrderOutcomes, dropPostgresDatabase, freshPostgres, seededRandom, TEST_POSTGRES_ADMIN_URL, type SimulationWorkerConfig } from '../testing/index.js';

/*
 * The acceptance crash test: 1,000 order sagas against services that fail, lose
 * replies and never answer at configured rates; the engine process is SIGKILLed at
 * random moments (at least 10 times) and restarted. Then every saga must be finished
 * (or parked in COMPENSATION_FAILED with an alert), no side effect done twice, nothing lost.
 */
const WORKER = fileURLToPath(new URL('../testing/simulation-worker-main.ts', import.meta.url));
const machine = { machineModule: fileURLToPath(new URL('../shop/index.ts', import.meta.url)), machineExport: 'orderMachine' };
const ORDERS = Number(process.env['ORDO_CRASH_ORDERS'] ?? 1000);
const KILLS = Number(process.env['ORDO_CRASH_KILLS'] ?? 10);

const faults = {
  seed: 42,
  inventory: { drop: 0.05, transient: 0.1, lostReply: 0.05, refuse: 0.05 },
  payment: { drop: 0.05, transient: 0.1, lostReply: 0.05, refuse: 0.05 },
  shipping: { drop: 0.05, transient: 0.1, refuse: 0.03 },
  compensation: { drop: 0.05, transient: 0.1, lostReply: 0.05, permanent: 0.02 },
};

interface Line {
  event: string;
  idle?: boolean;
}

function startWorker(config: SimulationWorkerConfig): { child: ChildProcess; lines: Line[]; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, ORDO_SIM_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let err = '';
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Line);
      buf = buf.slice(i + 1);
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => err };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function crashAndRecover(config: SimulationWorkerConfig, openForCheck: () => Promise<Db>): Promise<void> {
  const random = seededRandom(7);
  let kills = 0;
  while (kills < KILLS) {
    const w = startWorker(config);
    // Kill at a random moment: sometimes while it boots/places orders, mostly while it works.
    await sleep(300 + random() * 2500);
    const finished = w.lines.some((l) => l.event === 'done');
    w.child.kill('SIGKILL');
    await w.exited;
    if (finished) break; // nothing left to interrupt
    kills += 1;
  }
  const last = startWorker(config);
  const code = await last.exited;
  expect(code, last.stderr()).toBe(0);
  expect(last.lines.at(-1)?.event).toBe('done');
  expect(kills).toBeGreaterThanOrEqual(Math.min(KILLS, 10));

  const db = await openForCheck();
  try {
    const report = await checkOrderOutcomes(db);
    expect(report.total).toBe(ORDERS);
    expect(report.violations).toEqual([]);
    // The faults did bite: both endings happen.
    expect(report.byState['DELIVERED'] ?? 0).toBeGreaterThan(0);
    expect(report.byState['CANCELED'] ?? 0).toBeGreaterThan(0);
    const parked = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_saga_instances WHERE status = 'parked'`);
    expect(Number(parked.rows[0]?.n)).toBe(report.byState['COMPENSATION_FAILED'] ?? 0);
  } finally {
    await db.close();
  }
}

// The two run side by side: each kills only its own worker, on a database of its own, and most of
// a run is the random waits between kills.
describe.concurrent('saga engine survives SIGKILL', () => {
  it(`on the PostgreSQL server: ${ORDERS} sagas, ${KILLS} kills`, { timeout: 240_000 }, async () => {
    const d = await freshPostgres('runtime_crash');
    await d.db.close();
    try {
      await crashAndRecover({ ...machine, postgresUrl: d.url, orders: ORDERS, faults }, () => Promise.resolve(openPostgres({ url: d.url, max: 2 })));
    } finally {
      // ORDO_CRASH_KEEP_DB=1 keeps the database for a post-mortem.
      if (!process.env['ORDO_CRASH_KEEP_DB']) await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, d.name);
      else process.stderr.write(`kept database ${d.name}\n`);
    }
  });

  it(`on PGlite with a data directory: ${ORDERS} sagas, ${KILLS} kills`, { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-crash-'));
    try {
      await crashAndRecover({ ...machine, pgliteDir: dir, orders: ORDERS, faults }, () => openPglite({ dataDir: dir }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
