import { spawn } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { silentLogger } from '../observe/index.js';
import { ensurePostgresDatabase, openPostgres } from '../store/index.js';
import type { TimelineEntry } from './gateway/schemas.js';
import { checkShopInvariants, type InvariantReport, type ShopDbs } from './shop-invariants.js';
import { startShop, type RunningShop, type ShopOptions } from './shop.js';
import type { SimulationOptions } from './simulation.js';

/*
 * Helpers the end-to-end tests share: start an embedded shop, drive the gateway over
 * HTTP, wait for a condition or for quiet.
 */

/** A simulated world with no surprises: nothing declines, fails, stays silent or lags, and the carrier never comes. */
export const QUIET_SIMULATION = { declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0, refundFailureRate: 0, deliveryDelayMs: -1, latencyMs: 0 } as const;

/**
 * The embedded shop a test runs against: PGlite in memory, the in-process transport, a
 * free port, no logs, orchestration, a quiet world seeded with `seed`. `options` overrides
 * any of it (`simulation` field by field).
 */
export function startTestShop(seed: string, options: Partial<Omit<ShopOptions, 'simulation'>> & { readonly simulation?: Partial<SimulationOptions> } = {}): Promise<RunningShop> {
  return startShop({
    mode: 'orchestration',
    storage: { kind: 'pglite' },
    transport: { kind: 'inprocess' },
    port: 0,
    log: silentLogger(),
    ...options,
    simulation: { seed, ...QUIET_SIMULATION, ...options.simulation },
  });
}

/** Polls `ok` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function http<T>(base: string, token: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function placeOrders(base: string, token: string, count: number, skus: readonly string[], concurrency = 16, onProgress?: (n: number) => void): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const items = [{ sku: skus[i % skus.length] ?? '', quantity: 1 + (i % 3) }];
      if (i % 7 === 0 && skus.length > 1) items.push({ sku: skus[(i + 1) % skus.length] ?? '', quantity: 1 });
      const r = await http<{ orderId: string }>(base, token, '/orders', { method: 'POST', body: { customerId: `cust-${i % 40}`, items } });
      if (r.status !== 202) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
      ids.push(r.body.orderId);
      onProgress?.(ids.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** Polls the invariants until they hold (the system went quiet) or the time is up; returns the last report. */
export async function waitForQuiet(dbs: ShopDbs, initial: ReadonlyMap<string, number>, timeoutMs: number): Promise<InvariantReport> {
  const end = Date.now() + timeoutMs;
  let report = await checkShopInvariants(dbs, initial);
  while (report.violations.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    report = await checkShopInvariants(dbs, initial);
  }
  return report;
}

/** The timeline's state changes chain from INITIATED to the final status with no gap. */
export function timelineProblems(status: string, timeline: readonly TimelineEntry[]): string[] {
  const steps = timeline.filter((t) => t.type === 'transition');
  const problems: string[] = [];
  let at = 'INITIATED';
  for (const s of steps) {
    if (s.from === undefined) {
      if (s.to !== 'INITIATED') problems.push(`starts at ${s.to}`);
      continue;
    }
    if (s.from !== at) problems.push(`jumps from ${at} to a transition out of ${s.from}`);
    at = s.to ?? at;
  }
  if (at !== status) problems.push(`timeline ends at ${at} but status is ${status}`);
  for (let i = 1; i < timeline.length; i++) if ((timeline[i]?.at ?? '') < (timeline[i - 1]?.at ?? '')) problems.push('entries out of time order');
  return problems;
}

/** `promtool check metrics` on an exposition (stdin); exit code 0 and no output when it is well-formed. */
export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics']);
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

/** Every sample of a metric family in an exposition: labels text → value. */
export function metricSamples(body: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of body.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) out.set(m[1] ?? '', Number(m[2]));
  return out;
}

const SHOP_DATABASES = ['orders', 'inventory', 'payment', 'shipping'] as const;

/** The four databases `<ns>_<service>` of a shop on a PostgreSQL server, created if missing and opened (for the invariants). */
export async function openServerShopDbs(pgAdminUrl: string, ns: string): Promise<ShopDbs> {
  const open = async (s: (typeof SHOP_DATABASES)[number]) => openPostgres({ url: await ensurePostgresDatabase(pgAdminUrl, `${ns}_${s}`) });
  return { orders: await open('orders'), inventory: await open('inventory'), payment: await open('payment'), shipping: await open('shipping') };
}

/** A test's teardown of a shop on a server: its four databases and its NATS stream (named after `ns`). */
export async function dropServerShop(pgAdminUrl: string, natsUrl: string, ns: string): Promise<void> {
  const admin = openPostgres({ url: pgAdminUrl });
  for (const s of SHOP_DATABASES) await admin.query(`DROP DATABASE IF EXISTS ${ns}_${s} WITH (FORCE)`);
  await admin.close();
  const nc = await connect({ servers: natsUrl });
  await (await jetstreamManager(nc)).streams.delete(ns.toUpperCase()).catch(() => false);
  await nc.close();
}
