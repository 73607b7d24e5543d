import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStream, type Db } from '../store/index.js';
import { http, startTestShop, waitUntil } from './e2e-support.js';
import type { OrderDetails } from './gateway/schemas.js';
import type { RunningShop } from './shop.js';
import { ordersRetentionRound } from './shop-retention.js';

describe('shop retention (PGlite + in-process shop)', () => {
  let shop: RunningShop;
  let orders: Db;
  let base: string;
  let admin: string;

  const until = (what: string, ok: () => Promise<boolean>) => waitUntil(what, ok, 60_000);

  beforeAll(async () => {
    shop = await startTestShop('retention', {
      retention: false,
      simulation: { deliveryDelayMs: 0 },
    });
    base = shop.url ?? '';
    admin = shop.tokens.adminToken;
    orders = shop.dbs.orders as Db;
  });
  afterAll(async () => shop?.stop());

  it('moves a delivered order to the archive once published, and GET /orders/:id still shows it with its timeline; GET /orders lists live orders only', async () => {
    const placed = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId: 'alice', items: [{ sku: 'TEA-GREEN', quantity: 1 }] } });
    expect(placed.status).toBe(202);
    const id = placed.body.orderId;
    const read = () => http<OrderDetails>(base, admin, `/orders/${id}`);
    await until('the order to be delivered', async () => (await read()).body.status === 'DELIVERED');
    const before = (await read()).body;
    const listed = async () => (await http<{ orders: { orderId: string }[] }>(base, admin, '/orders?customerId=alice')).body.orders.map((o) => o.orderId);
    await until('order_view to list it', async () => (await listed()).includes(id));
    // The relay must have published the order's last messages before they may leave the log.
    await until('the relay to pass the order', async () => (await ordersRetentionRound(orders, { finishedAfterMs: 0, inboxAfterMs: 86_400_000, mode: 'archive' })).sagas > 0 || (await shop.orders?.engine.getSaga(id)) === undefined);
    expect(await shop.orders?.engine.getSaga(id)).toBeUndefined();
    expect(await readStream(orders, `order-${id}`)).toEqual([]);
    const after = await read();
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before);
    expect(after.body.timeline.some((t) => t.type === 'transition' && t.to === 'DELIVERED')).toBe(true);
    // As a rebuild of order_view from the log (where its stream no longer is) would have it.
    expect(await listed()).not.toContain(id);
  });
});
