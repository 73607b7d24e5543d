import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { managedProcess, type ManagedProcess } from '../src/cli/chaos/managed-process.js';
import { freePort } from '../src/transport/free-port.js';
import { dropPostgresDatabase } from '../src/store/index.js';
import { packageRoot } from '../src/cli/package-root.js';
import pg from 'pg';
import { procStat } from './cpu-meter.js';

const ROOT = packageRoot();
const SERVICES = ['orders', 'inventory', 'payment', 'shipping'] as const;

export type ShopLayout = { kind: 'nats'; url: string } | { kind: 'kafka'; brokers: string } | { kind: 'embedded' };

export interface RunningShop {
  readonly url: string;
  readonly adminToken: string;
  readonly describe: string;
  /** CPU time (user + system) the shop process has used so far, in ms; undefined where /proc is not there. */
  cpuMs(): number | undefined;
  /** Transactions committed so far in the shop's PostgreSQL databases (server layouts; undefined embedded). */
  commits(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** No failures injected, the carrier confirms at once: the bench measures ordo, not the simulators. */
const QUIET_WORLD = ['--delivery-delay-ms', '0', '--decline-rate', '0', '--error-rate', '0', '--never-answers-rate', '0', '--shipment-failure-rate', '0', '--refund-failure-rate', '0', '--latency-ms', '0'];

/** `ordo start --service all` as a child process, on fresh databases (or a fresh data dir), until stop(). */
export async function startShopProcess(layout: ShopLayout, postgresUrl: string): Promise<RunningShop> {
  const port = await freePort();
  const adminToken = randomBytes(16).toString('hex');
  const namespace = `ordo_bench_shop_${randomBytes(3).toString('hex')}`;
  const scratch = mkdtempSync(join(tmpdir(), 'ordo-bench-shop-'));
  const where =
    layout.kind === 'embedded'
      ? ['--data-dir', join(scratch, 'data')]
      : ['--postgres', postgresUrl, '--namespace', namespace, ...(layout.kind === 'nats' ? ['--nats', layout.url] : ['--kafka', layout.brokers])];
  const child: ManagedProcess = managedProcess({
    name: 'shop',
    command: process.execPath,
    // ORDO_BENCH_SHOP_NODE_ARGS: options for the shop's node (e.g. --cpu-prof --cpu-prof-dir=/tmp/p), which NODE_OPTIONS does not take.
    args: [...(process.env['ORDO_BENCH_SHOP_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), join(ROOT, 'bin', 'ordo.js'), 'start', '--service', 'all', '--port', String(port), ...where, ...QUIET_WORLD, '--reconcile-interval-ms', '0'],
    cwd: ROOT,
    env: { ...process.env, ORDO_ADMIN_TOKEN: adminToken, ORDO_LOG_LEVEL: 'warn' },
    logFile: join(scratch, 'shop.log'),
    ready: /is running/,
    readyTimeoutMs: 120_000,
  });
  await child.start();
  const describe = layout.kind === 'embedded' ? 'embedded (PGlite, in-process transport)' : `PostgreSQL + ${layout.kind === 'nats' ? 'NATS JetStream' : 'Kafka'}, --service all`;
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken,
    describe,
    cpuMs: () => (child.pid === undefined ? undefined : procStat(child.pid)?.own),
    commits: () => (layout.kind === 'embedded' ? Promise.resolve(undefined) : commitsIn(postgresUrl, namespace)),
    async stop() {
      await child.stop(10_000);
      if (layout.kind !== 'embedded') for (const s of SERVICES) await dropPostgresDatabase(postgresUrl, `${namespace}_${s}`).catch(() => undefined);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** xact_commit summed over the namespace's databases (the statistics a backend flushes within a second of its commits). */
async function commitsIn(postgresUrl: string, namespace: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl });
  try {
    await client.connect();
    const r = await client.query<{ n: string | null }>(`SELECT sum(xact_commit)::text AS n FROM pg_stat_database WHERE datname LIKE $1`, [`${namespace}\\_%`]);
    return r.rows[0]?.n == null ? undefined : Number(r.rows[0].n);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
