import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkShopInvariants, DEMO_CATALOGUE, SHOP_SERVICES, type InvariantReport, type ShopService } from '../../shop/index.js';
import { cancelReasons } from './cancel-reasons.js';
import { createChaosDatabases, type ChaosDatabases } from './chaos-databases.js';
import { plannedLoadMs, plannedOrders, type ChaosOptions } from './chaos-options.js';
import type { ChaosReport, InjectedFault, UnexpectedExit } from './chaos-report.js';
import { findChaosBroker, prepareChaosBroker, type ChaosBroker } from './chaos-broker.js';
import { runFaultPlan } from './fault-injector.js';
import { isBrokerFault, planFaults } from './fault-schedule.js';
import { freePort } from '../../transport/index.js';
import type { ManagedProcess } from './managed-process.js';
import { startOrderLoad, type OrderLoadStats } from './order-load.js';
import { shopProcesses } from './shop-processes.js';

export type ChaosPhase = 'load' | 'settle';

export interface ChaosProgress {
  readonly phase: ChaosPhase;
  readonly planned: number;
  readonly placed: number;
  readonly finished: number;
  readonly faults: number;
  /** Since the start of the load. */
  readonly elapsedMs: number;
  /** The fault in progress, e.g. `kill payment`. */
  readonly current?: string;
}

export interface ChaosHooks {
  /** Ctrl-C: stop injecting and placing, then clean up; runChaos rejects with ChaosAbortedError. */
  readonly signal: AbortSignal;
  /** A step of setup or cleanup, one line. */
  readonly onStep?: (message: string) => void;
  /** About twice a second during load and settle. */
  readonly onProgress?: (progress: ChaosProgress) => void;
}

export class ChaosAbortedError extends Error {
  readonly code = 'CHAOS_ABORTED';
  constructor() {
    super('the chaos run was interrupted');
  }
}

/** A quick carrier, so that orders reach DELIVERED soon after they shipped. */
const DELIVERY_DELAY_MS = 200;
const FINAL = ['DELIVERED', 'CANCELED'];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** Waits for `work`, or rejects with ChaosAbortedError as soon as the signal fires (the work's own failure is then ignored). */
async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) throw new ChaosAbortedError();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ChaosAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const finishedOf = (r: InvariantReport) => FINAL.reduce((n, s) => n + (r.byStatus[s] ?? 0), 0);

/**
 * One chaos run: a fresh PostgreSQL namespace, a private broker (nats-server, or Kafka with
 * `--kafka`), the shop as five processes; orders at a steady rate while the seeded plan kills, pauses and restarts
 * processes and the broker; then wait for quiet and check the shop's invariants.
 * Always stops what it started; drops the databases unless `keep`.
 */
export async function runChaos(options: ChaosOptions, hooks: ChaosHooks): Promise<ChaosReport> {
  const { signal } = hooks;
  const step = (m: string) => hooks.onStep?.(m);
  const t0 = Date.now();
  const found = await findChaosBroker(options);
  const runId = randomBytes(3).toString('hex');
  const namespace = `ordo_chaos_${runId}`;
  const dir = await mkdtemp(join(tmpdir(), 'ordo-chaos-'));
  const logDir = join(dir, 'logs');
  await mkdir(logDir);

  const planned = plannedOrders(options);
  const injected: InjectedFault[] = [];
  const unexpected: UnexpectedExit[] = [];
  const restarts: Promise<void>[] = [];
  let stopping = false;
  let loadStart = t0;
  let databases: ChaosDatabases | undefined;
  let broker: ChaosBroker | undefined;
  let shop: ReadonlyMap<ShopService, ManagedProcess> = new Map();
  let ticker: NodeJS.Timeout | undefined;
  let result: Omit<ChaosReport, 'kept'> | undefined;
  let caught: unknown;

  // A process that died on its own is a finding: record it, and bring it back so the run can finish.
  const crashed = (name: string, proc: () => ManagedProcess | undefined) => (code: number | null, sig: NodeJS.Signals | null) => {
    unexpected.push({ atMs: Date.now() - loadStart, process: name, code, signal: sig });
    const p = proc();
    if (!stopping && p) restarts.push(p.start().catch((err: unknown) => step(`could not restart ${name}: ${String(err)}`)));
  };

  try {
    const b = await prepareChaosBroker(found, options, dir, logDir, (code, sig) => crashed(b.name, () => b.process)(code, sig));
    broker = b;
    step(`creating databases ${namespace}_{orders,inventory,payment,shipping} on ${options.postgres.replace(/\/\/[^@/]*@/, '//')}`);
    const dbs = await unlessAborted(createChaosDatabases(options.postgres, namespace), signal);
    databases = dbs;

    step(`starting ${b.description}`);
    await unlessAborted(b.process.start(), signal);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const adminToken = `adm_chaos_${randomBytes(12).toString('hex')}`;
    shop = shopProcesses({
      postgres: options.postgres,
      brokerArgs: b.shopArgs,
      namespace,
      mode: options.mode,
      port,
      adminToken,
      relayLeaseMs: options.relayLeaseMs,
      paymentTimeoutMs: options.paymentTimeoutMs,
      deliveryDelayMs: DELIVERY_DELAY_MS,
      logDir,
      onUnexpectedExit: (service, code, sig) => crashed(service, () => shop.get(service))(code, sig),
    });
    step(`starting the shop (${options.mode}) as ${shop.size} processes: ${[...shop.keys()].join(', ')}; gateway on ${base}`);
    await unlessAborted(Promise.all([...shop.values()].map((p) => p.start())), signal);

    // Stock a little under what the orders ask for, so some end in InventoryInsufficient too.
    const stock = new Map(DEMO_CATALOGUE.map((item) => [item.sku, Math.ceil(planned * 0.4) + 10] as const));
    for (const item of DEMO_CATALOGUE) {
      const r = await unlessAborted(
        fetch(`${base}/inventory/${item.sku}`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ available: stock.get(item.sku), unitPrice: item.unitPrice, name: item.name }) }),
        signal,
      );
      if (r.status !== 200) throw new Error(`stocking ${item.sku}: PUT /inventory → ${r.status} ${await r.text()}`);
    }
    const setupDone = Date.now();

    // Load and faults.
    const check = () => checkShopInvariants(dbs.dbs, stock);
    let last: InvariantReport = { orders: 0, byStatus: {}, violations: [] };
    let current: string | undefined;
    let phase: ChaosPhase = 'load';
    let polling = false;
    let lastPoll = 0;
    const stopLoad = new AbortController();
    const abortLoad = () => stopLoad.abort();
    signal.addEventListener('abort', abortLoad, { once: true });
    loadStart = Date.now();
    const load = startOrderLoad({
      base,
      adminToken,
      rate: options.rate,
      maxOrders: planned,
      ...(options.load.kind === 'duration' ? { launchForMs: options.load.durationMs } : {}),
      skus: DEMO_CATALOGUE.map((i) => i.sku),
      runId,
      giveUpAfterMs: options.settleTimeoutMs,
      signal: stopLoad.signal,
    });
    const progress = (stats: OrderLoadStats) =>
      hooks.onProgress?.({ phase, planned, placed: stats.ids.size, finished: finishedOf(last), faults: injected.length, elapsedMs: Date.now() - loadStart, ...(current ? { current } : {}) });
    ticker = setInterval(() => {
      progress(load.stats);
      if (!polling && Date.now() - lastPoll > 1500) {
        polling = true;
        check()
          .then((r) => void (last = r))
          .catch(() => undefined)
          .finally(() => {
            polling = false;
            lastPoll = Date.now();
          });
      }
    }, 500);

    let loadEnd = 0;
    const loadDone = load.done.finally(() => void (loadEnd = Date.now()));
    await runFaultPlan(planFaults({ seed: options.seed, horizonMs: plannedLoadMs(options), meanGapMs: options.faultEveryMs, kinds: options.faults, services: SHOP_SERVICES }), {
      targetOf: (f) => (isBrokerFault(f.kind) ? b.process : shop.get(f.target as ShopService)),
      startedAt: loadStart,
      until: loadDone,
      signal,
      onCurrent: (what) => void (current = what),
      onInjected: (f) => void injected.push(f),
    });
    await loadDone;
    await Promise.all(restarts);
    signal.removeEventListener('abort', abortLoad);
    if (signal.aborted) throw new ChaosAbortedError();

    // Settle: wait until every order is final and the invariants hold, or the time is up.
    phase = 'settle';
    step(`placed ${load.stats.ids.size} orders; waiting up to ${options.settleTimeoutMs / 1000}s for all of them to finish`);
    const deadline = Date.now() + options.settleTimeoutMs;
    let report = await check();
    last = report;
    while (report.violations.length > 0 && Date.now() < deadline && !signal.aborted) {
      await sleep(1000, signal);
      report = await check();
      last = report;
    }
    if (signal.aborted) throw new ChaosAbortedError();
    clearInterval(ticker);
    progress(load.stats);
    const settleEnd = Date.now();

    const placed = load.stats.ids.size;
    const settled = finishedOf(report);
    const unsettled = Math.max(0, report.orders - settled) + Math.max(0, placed - report.orders);
    const failures: string[] = [];
    if (load.stats.failures.length) failures.push(`${load.stats.failures.length} orders were never accepted by the gateway`);
    if (placed < planned && options.load.kind === 'orders') failures.push(`${placed} of ${planned} orders placed`);
    if (unsettled > 0) failures.push(`${unsettled} orders did not reach DELIVERED or CANCELED within ${options.settleTimeoutMs / 1000}s`);
    if (report.orders !== placed) failures.push(`the gateway accepted ${placed} orders but the orders database holds ${report.orders}`);
    if (report.violations.length) failures.push(`${report.violations.length} invariant violations`);
    if (unexpected.length) failures.push(`${unexpected.length} processes exited without being killed: ${unexpected.map((u) => u.process).join(', ')}`);
    for (const f of injected) if (f.error) failures.push(`${f.target} could not be restarted after a fault: ${f.error}`);

    // Informational (the order view may lag a moment behind the saga): left out if the gateway cannot say.
    const reasons = (report.byStatus['CANCELED'] ?? 0) > 0 ? await cancelReasons(base, adminToken).catch(() => undefined) : undefined;
    const seconds = (ms: number) => Math.round(ms) / 1000;
    result = {
      ok: failures.length === 0,
      failures,
      mode: options.mode,
      broker: options.broker,
      seed: options.seed,
      namespace,
      load: { rate: options.rate, ...(options.load.kind === 'orders' ? { orders: options.load.orders } : { durationMs: options.load.durationMs }) },
      orders: { planned, placed, settled, unsettled, inDatabase: report.orders, byStatus: report.byStatus,
        ...(reasons ? { cancelReasons: reasons } : {}),
        retriedRequests: load.stats.retries, failedRequests: load.stats.failures },
      faults: injected,
      unexpectedExits: unexpected,
      deadLetters: await dbs.deadLetters(),
      invariants: { ok: report.violations.length === 0, violations: report.violations },
      seconds: { setup: seconds(setupDone - t0), load: seconds(loadEnd - loadStart), settle: seconds(settleEnd - loadEnd), total: seconds(settleEnd - t0) },
      throughput: {
        placedPerSec: Math.round((placed / Math.max(0.001, (loadEnd - loadStart) / 1000)) * 10) / 10,
        settledPerSec: Math.round((settled / Math.max(0.001, (settleEnd - loadStart) / 1000)) * 10) / 10,
      },
    };
  } catch (err) {
    caught = err;
  } finally {
    stopping = true;
    if (ticker) clearInterval(ticker);
    step(`stopping the shop processes${broker ? ` and the ${broker.name}` : ''}`);
    await Promise.all([...shop.values()].map((p) => p.stop(3000)));
    await broker?.process.stop(broker.name === 'kafka' ? 15_000 : 3000);
    await databases?.close();
  }

  // The databases go unless --keep; the folder (logs, broker store) stays with --keep and when the run failed, for a post-mortem.
  const aborted = caught instanceof ChaosAbortedError;
  const keepDir = options.keep || (caught !== undefined && !aborted) || result?.ok === false;
  if (!options.keep && databases) {
    step(`dropping ${databases.names.join(', ')}`);
    await databases.drop().catch((err: unknown) => step(`could not drop the databases: ${String(err)}`));
  }
  if (keepDir) step(`logs of every process kept in ${logDir}`);
  else await rm(dir, { recursive: true, force: true });
  if (caught !== undefined) throw caught instanceof Error ? caught : new Error('the chaos run failed', { cause: caught });
  if (result === undefined) throw new Error('the chaos run ended without a report');
  return { ...result, ...(keepDir ? { kept: { dir, ...(options.keep && databases ? { databases: databases.names } : {}) } } : {}) };
}
