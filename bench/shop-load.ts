import { appendFileSync } from 'node:fs';
import { percentile } from './result.js';

/*
 * Open-loop load on the shop's gateway: orders are placed on a fixed schedule whatever the
 * shop's state (a slow shop gets more requests in flight, never fewer arrivals), then every
 * order is read back and its completion latency taken from its own timeline.
 */

export interface RateStep {
  readonly rate: number;
  readonly orders: number;
  /** Orders the gateway accepted (202). */
  readonly accepted: number;
  readonly rejected: number;
  /** Achieved arrival rate (accepted ÷ placing time). */
  readonly arrivalPerSec: number;
  /** POST /orders latency seen by the client. */
  readonly acceptP50Ms: number;
  readonly acceptP99Ms: number;
  /** Created → DELIVERED from each order's timeline (orders that reached DELIVERED). */
  readonly completionP50Ms: number;
  readonly completionP99Ms: number;
  readonly delivered: number;
  /** Orders not DELIVERED when the drain ended (stuck, canceled or still running). */
  readonly notDelivered: number;
}

interface Timeline {
  status: string;
  timeline: { type: string; to?: string; at: string }[];
}

const SKUS = ['TEA-GREEN', 'TEA-BLACK', 'MUG-BLUE', 'KETTLE', 'STRAINER'];

async function call<T>(base: string, token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Enough stock that no order is refused: the bench measures the happy path. */
export async function stockUp(base: string, token: string, units: number): Promise<void> {
  for (const sku of SKUS) {
    const r = await call(base, token, `/inventory/${sku}`, { method: 'PUT', body: { available: units } });
    if (r.status >= 300) throw new Error(`PUT /inventory/${sku} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  // The stock may be applied asynchronously (a command to the inventory service): wait for it.
  const until = Date.now() + 30_000;
  for (const sku of SKUS) {
    for (;;) {
      const r = await call<{ available?: number }>(base, token, `/inventory/${sku}`);
      if ((r.body.available ?? 0) >= units) break;
      if (Date.now() > until) throw new Error(`stock of ${sku} never reached ${units}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

function completionMs(t: Timeline): number | undefined {
  const first = t.timeline[0];
  const delivered = t.timeline.find((e) => e.type === 'transition' && e.to === 'DELIVERED');
  if (!first || !delivered) return undefined;
  return Date.parse(delivered.at) - Date.parse(first.at);
}

/** Places `rate` orders/s for `seconds`, waits up to `drainMs` for them to finish, and measures. */
export async function runRate(base: string, token: string, rate: number, seconds: number, drainMs: number, onProgress: (placed: number, total: number) => void): Promise<RateStep> {
  const total = Math.max(1, Math.round(rate * seconds));
  const ids: string[] = [];
  const acceptMs: number[] = [];
  let rejected = 0;
  const t0 = performance.now();
  const posts: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    posts.push(
      call<{ orderId: string }>(base, token, '/orders', { method: 'POST', body: { customerId: `bench-${i % 50}`, items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }] } }).then(
        (r) => {
          if (r.status === 202) {
            ids.push(r.body.orderId);
            acceptMs.push(performance.now() - s);
          } else rejected += 1;
          onProgress(ids.length + rejected, total);
        },
        () => {
          rejected += 1;
        },
      ),
    );
  }
  await Promise.all(posts);
  const placingSeconds = (performance.now() - t0) / 1000;

  const finished = new Map<string, Timeline>();
  const until = Date.now() + drainMs;
  let pending = [...ids];
  while (pending.length > 0 && Date.now() < until) {
    const next: string[] = [];
    for (let i = 0; i < pending.length; i += 32) {
      const chunk = pending.slice(i, i + 32);
      const read = await Promise.all(chunk.map((id) => call<Timeline>(base, token, `/orders/${id}`)));
      read.forEach((r, j) => {
        const id = chunk[j] ?? '';
        if (r.status === 200 && (r.body.status === 'DELIVERED' || r.body.status === 'CANCELED' || r.body.status === 'COMPENSATION_FAILED')) finished.set(id, r.body);
        else next.push(id);
      });
    }
    pending = next;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 250));
  }
  // ORDO_BENCH_SHOP_TIMELINES=<file>: each finished order's timeline appended as a JSON line (where the time goes between hops).
  const dump = process.env['ORDO_BENCH_SHOP_TIMELINES'];
  if (dump) appendFileSync(dump, [...finished.values()].map((t) => `${JSON.stringify({ rate, ...t })}\n`).join(''));
  const completion = [...finished.values()].map(completionMs).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const accepts = acceptMs.sort((a, b) => a - b);
  return {
    rate,
    orders: total,
    accepted: ids.length,
    rejected,
    arrivalPerSec: ids.length / placingSeconds,
    acceptP50Ms: percentile(accepts, 50),
    acceptP99Ms: percentile(accepts, 99),
    completionP50Ms: percentile(completion, 50),
    completionP99Ms: percentile(completion, 99),
    delivered: completion.length,
    notDelivered: ids.length - completion.length,
  };
}
