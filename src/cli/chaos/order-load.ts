import { setMaxListeners } from 'node:events';

export interface OrderLoadOptions {
  /** Gateway base URL. */
  readonly base: string;
  readonly adminToken: string;
  /** Orders per second, started on a fixed timetable (open loop): a slow gateway does not slow the arrivals down. */
  readonly rate: number;
  readonly maxOrders: number;
  /** Start no order after this long (the `--duration` of the run). */
  readonly launchForMs?: number;
  readonly skus: readonly string[];
  /** Makes the idempotency keys unique to the run. */
  readonly runId: string;
  readonly maxInFlight?: number;
  readonly requestTimeoutMs?: number;
  /** An order whose POST kept failing this long is given up (and reported). */
  readonly giveUpAfterMs?: number;
  readonly signal: AbortSignal;
}

export interface OrderLoadStats {
  /** Orders whose POST was sent at least once. */
  launched: number;
  /** Accepted orders (202), by id: a retried POST that the gateway had already accepted gives the same id. */
  readonly ids: Set<string>;
  /** POSTs that failed in a way worth retrying (connection refused, timeout, 5xx) and were sent again with the same Idempotency-Key. */
  retries: number;
  /** Orders that were never accepted, with why. */
  readonly failures: string[];
}

export interface OrderLoad {
  readonly stats: OrderLoadStats;
  /** Resolves when every started order was accepted, failed for good, or the signal aborted. */
  readonly done: Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** The order a run places as its i-th: deterministic, spread over the SKUs, some with two lines. */
export function chaosOrder(i: number, skus: readonly string[]): { customerId: string; items: { sku: string; quantity: number }[] } {
  const items = [{ sku: skus[i % skus.length] ?? '', quantity: 1 + (i % 3) }];
  if (i % 7 === 0 && skus.length > 1) items.push({ sku: skus[(i + 1) % skus.length] ?? '', quantity: 1 });
  return { customerId: `chaos-${i % 40}`, items };
}

/**
 * Places orders through the gateway at a steady rate. A POST that fails because a
 * process or the broker is down is sent again with the same Idempotency-Key until
 * it is accepted, so every order the run meant to place exists exactly once.
 */
export function startOrderLoad(options: OrderLoadOptions): OrderLoad {
  const { signal } = options;
  const stats: OrderLoadStats = { launched: 0, ids: new Set(), retries: 0, failures: [] };
  const maxInFlight = options.maxInFlight ?? 64;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const giveUpMs = options.giveUpAfterMs ?? 120_000;
  const inFlight = new Set<Promise<void>>();
  // Every order in flight waits on the signal (its request, its backoff).
  setMaxListeners(2 * maxInFlight + 10, signal);

  async function place(i: number): Promise<void> {
    const body = JSON.stringify(chaosOrder(i, options.skus));
    const headers = { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json', 'idempotency-key': `chaos-${options.runId}-${i}` };
    const giveUpAt = Date.now() + giveUpMs;
    let lastError = '';
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const r = await fetch(`${options.base}/orders`, { method: 'POST', headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
        const text = await r.text();
        if (r.status === 202) {
          stats.ids.add((JSON.parse(text) as { orderId: string }).orderId);
          return;
        }
        lastError = `${r.status} ${text.slice(0, 200)}`;
        if (r.status < 500 && r.status !== 429) {
          stats.failures.push(`order #${i}: POST /orders → ${lastError}`);
          return;
        }
      } catch (err) {
        if (signal.aborted) return;
        lastError = err instanceof Error ? `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}` : String(err);
      }
      if (Date.now() >= giveUpAt) {
        stats.failures.push(`order #${i}: gave up after ${attempt + 1} attempts, last: ${lastError}`);
        return;
      }
      stats.retries++;
      await sleep(Math.min(2000, 100 * 2 ** attempt), signal);
    }
  }

  async function run(): Promise<void> {
    const started = Date.now();
    for (let i = 0; i < options.maxOrders && !signal.aborted; i++) {
      const offset = (i * 1000) / options.rate;
      if (options.launchForMs !== undefined && offset >= options.launchForMs) break;
      await sleep(started + offset - Date.now(), signal);
      while (inFlight.size >= maxInFlight && !signal.aborted) await Promise.race(inFlight);
      // Behind the timetable (the gateway was down): the duration still ends on time.
      if (signal.aborted || (options.launchForMs !== undefined && Date.now() - started >= options.launchForMs)) break;
      stats.launched++;
      const p: Promise<void> = place(i)
        .catch((err: unknown) => void stats.failures.push(`order #${i}: ${String(err)}`))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }

  return { stats, done: run() };
}
