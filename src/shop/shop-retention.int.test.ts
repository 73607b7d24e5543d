import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStream, vacuumState, type Db } from '../store/index.js';
import { http, startTestShop, waitUntil } from './e2e-support.js';
import type { OrderDetails } from './gateway/schemas.js';
import type { RunningShop } from './shop.js';
import { ordersRetentionRound, serviceRetentionRound, SHOP_CHURN_TABLES } from './shop-retention.js';

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

  it("vacuums the shop's own churned tables (order_view, reservations…) where autovacuum does not run, as it does the engine's", async () => {
    const dbOf = (owner: keyof typeof SHOP_CHURN_TABLES) => shop.dbs[owner] as Db;
    // Every name in the lists is a table of that database (a missing one would be skipped without a word).
    for (const [owner, tables] of Object.entries(SHOP_CHURN_TABLES) as [keyof typeof SHOP_CHURN_TABLES, readonly string[]][]) {
      expect((await vacuumState(dbOf(owner), tables)).map((t) => t.table).sort(), owner).toEqual([...tables].sort());
    }
    const ids = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const placed = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId: 'bob', items: [{ sku: i % 2 ? 'TEA-GREEN' : 'MUG-BLUE', quantity: 1 }] } });
        expect(placed.status).toBe(202);
        return placed.body.orderId;
      }),
    );
    const statuses = async () => (await http<{ orders: { orderId: string; status: string }[] }>(base, admin, '/orders?customerId=bob&limit=100')).body.orders;
    await until('the 40 orders to be delivered', async () => (await statuses()).filter((o) => ids.includes(o.orderId) && o.status === 'DELIVERED').length === ids.length);
    const keep = { finishedAfterMs: 30 * 86_400_000, inboxAfterMs: 30 * 86_400_000, mode: 'archive' as const };
    const dead = async (owner: keyof typeof SHOP_CHURN_TABLES, table: string) => (await vacuumState(dbOf(owner), [table]))[0]?.dead ?? 0;
    // Each order's row in order_view is updated as its projector takes its transitions (an
    // indexed column: no HOT update, the old versions stay) — but how many updates that makes
    // depends on how many of an order's events one projector round takes together (a fast
    // engine: all of them, one update), so 40 orders alone left 87–121 dead rows, sometimes
    // under the 100 waited for below. Churn it as a longer run would: an indexed column changed
    // and changed back, two dead versions a row a round. In the inventory, each order's
    // reservation changed status once; churn it more too. (The five stock rows themselves share
    // one page, which every update prunes: they stay small without VACUUM.)
    for (let i = 0; i < 2; i++) {
      await dbOf('orders').query(`UPDATE order_view SET created_at = created_at + interval '1 microsecond'`);
      await dbOf('orders').query(`UPDATE order_view SET created_at = created_at - interval '1 microsecond'`);
    }
    for (let i = 0; i < 3; i++) await dbOf('inventory').query(`UPDATE reservations SET status = status, updated_at = now()`);
    await until('the dead rows to show in the statistics', async () => (await dead('orders', 'order_view')) > 100 && (await dead('inventory', 'reservations')) > 100);
    // A backend sends its table statistics at most once a second: let the last of the counts
    // arrive (a query after the second flushes them), or they would land after the VACUUM below.
    await new Promise((r) => setTimeout(r, 1500));
    await dead('orders', 'order_view');

    // 'never': the dead rows stay.
    expect((await ordersRetentionRound(dbOf('orders'), { ...keep, vacuum: 'never' })).vacuumed).toEqual([]);
    expect((await serviceRetentionRound('inventory', dbOf('inventory'), { ...keep, vacuum: 'never' })).vacuumed).toEqual([]);
    expect(await dead('orders', 'order_view')).toBeGreaterThan(100);
    // 'auto' (the default; PGlite never runs autovacuum): the rounds vacuum them.
    expect((await ordersRetentionRound(dbOf('orders'), keep)).vacuumed).toContain('order_view');
    expect((await serviceRetentionRound('inventory', dbOf('inventory'), keep)).vacuumed).toContain('reservations');
    expect(await dead('orders', 'order_view')).toBe(0);
    expect(await dead('inventory', 'reservations')).toBe(0);
  }, 120_000);
});
