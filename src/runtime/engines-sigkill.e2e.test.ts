import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../store/index.js';
import { checkOrderOutcomes, dropPostgresDatabase, freshPostgres, seededRandom, TEST_POSTGRES_ADMIN_URL, type SimulationWorkerConfig } from '../testing/index.js';

/*
 * Two engine processes on one PostgreSQL database, sharing deliveries and timers, each
 * SIGKILLed at random moments and restarted: every saga ends, no side effect twice,
 * nothing lost, and both processes did part of the work.
 */
const WORKER = fileURLToPath(new URL('../testing/simulation-worker-main.ts', import.meta.url));
const machine = { machineModule: fileURLToPath(new URL('../shop/index.ts', import.meta.url)), machineExport: 'orderMachine' };
const ORDERS = Number(process.env['ORDO_TWO_ENGINES_ORDERS'] ?? 300);
const KILLS = Number(process.env['ORDO_TWO_ENGINES_KILLS'] ?? 6);

const faults = {
  seed: 11,
  inventory: { drop: 0.05, transient: 0.1, lostReply: 0.05, refuse: 0.05 },
  payment: { drop: 0.05, transient: 0.1, lostReply: 0.05, refuse: 0.05 },
  shipping: { drop: 0.05, transient: 0.1, refuse: 0.03 },
  compensation: { drop: 0.05, transient: 0.1, lostReply: 0.05, permanent: 0.02 },
};

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  pumped: number;
  done: boolean;
  stderr: string;
}

function startWorker(config: SimulationWorkerConfig): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ORDO_SIM_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Worker = { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))), pumped: 0, done: false, stderr: '' };
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, i)) as { event: string; pumped?: number };
      buf = buf.slice(i + 1);
      if (typeof line.pumped === 'number') w.pumped = line.pumped;
      if (line.event === 'done') w.done = true;
    }
  });
  child.stderr?.on('data', (d: Buffer) => (w.stderr += d.toString()));
  return w;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two engine processes on one PostgreSQL database', () => {
  it(`${ORDERS} sagas, ${KILLS} SIGKILLs across both`, { timeout: 300_000 }, async () => {
    const d = await freshPostgres('runtime_two_engines');
    await d.db.close();
    const config: SimulationWorkerConfig = { ...machine, postgresUrl: d.url, orders: ORDERS, faults, reportEveryMs: 200 };
    const random = seededRandom(3);
    // Work each slot's processes did, summed over their lives (a killed process's last report counts).
    const pumped = [0, 0];
    try {
      const slots = [startWorker(config), startWorker(config)];
      let kills = 0;
      while (kills < KILLS && !slots.some((w) => w.done)) {
        await sleep(500 + random() * 2000);
        const victim = random() < 0.5 ? 0 : 1;
        const w = slots[victim] as Worker;
        if (w.done) break;
        w.child.kill('SIGKILL');
        await w.exited;
        pumped[victim] = (pumped[victim] ?? 0) + w.pumped;
        slots[victim] = startWorker(config);
        kills += 1;
      }
      const codes = await Promise.all(slots.map((w) => w.exited));
      slots.forEach((w, i) => (pumped[i] = (pumped[i] ?? 0) + w.pumped));
      expect(codes, slots.map((w) => w.stderr).join('\n')).toEqual([0, 0]);
      expect(kills).toBeGreaterThanOrEqual(Math.min(KILLS, 3));
      expect(pumped.every((n) => n > 0), `replies applied per process slot: ${pumped.join(', ')}`).toBe(true);

      const db = openPostgres({ url: d.url, max: 2 });
      try {
        const report = await checkOrderOutcomes(db);
        expect(report.total).toBe(ORDERS);
        expect(report.violations).toEqual([]);
        const unfinished = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_saga_instances WHERE status = 'active'`);
        expect(Number(unfinished.rows[0]?.n)).toBe(0);
      } finally {
        await db.close();
      }
    } finally {
      await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, d.name);
    }
  });
});
