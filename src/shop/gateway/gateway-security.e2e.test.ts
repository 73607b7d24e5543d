import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../store/index.js';
import { http, startTestShop, waitUntil } from '../e2e-support.js';
import type { RunningShop } from '../shop.js';
import type { OrderDetails } from './schemas.js';
import type { AuditEntry } from './security-api.js';

type ErrorBody = { error: { code: string; message: string } };

/** Isolation between customers, service ownership and the audit trail, on the embedded shop. */
describe('gateway security (embedded shop)', () => {
  let shop: RunningShop;
  let base: string;
  let admin: string;
  let alice: string;
  let aliceOrder: string;
  let bobOrder: string;

  const stateOf = async (id: string) => (await http<{ status: string }>(base, admin, `/orders/${id}`)).body.status;
  const place = async (customerId: string) => {
    const r = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId, items: [{ sku: 'TEA-GREEN', quantity: 1 }] } });
    expect(r.status).toBe(202);
    return r.body.orderId;
  };

  beforeAll(async () => {
    shop = await startTestShop('security', {
      reconcileIntervalMs: false,
    });
    base = shop.url ?? '';
    admin = shop.tokens.adminToken;
    alice = shop.tokens.customerToken('alice');
    aliceOrder = await place('alice');
    bobOrder = await place('bob');
    await waitUntil('both orders to ship', async () => (await stateOf(aliceOrder)) === 'SHIPPED' && (await stateOf(bobOrder)) === 'SHIPPED');
    // GET /orders reads order_view, fed from the log after the commit (eventually consistent).
    await shop.orders?.orderView.catchUp();
  });
  afterAll(async () => shop?.stop());

  it("lists only a customer's own orders: another customerId is 403, none is their own", async () => {
    const mine = await http<{ orders: { orderId: string; customerId: string }[] }>(base, alice, '/orders');
    expect(mine.status).toBe(200);
    expect(mine.body.orders.map((o) => o.orderId)).toEqual([aliceOrder]);
    expect((await http<{ orders: unknown[] }>(base, alice, '/orders?status=SHIPPED')).body.orders).toHaveLength(1);
    expect((await http<{ orders: unknown[] }>(base, alice, '/orders?customerId=alice')).body.orders).toHaveLength(1);
    const foreign = await http<ErrorBody>(base, alice, '/orders?customerId=bob');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN');
    expect((await http<{ orders: unknown[] }>(base, admin, '/orders?customerId=bob')).body.orders).toHaveLength(1);
    expect((await http(base, alice, `/orders/${bobOrder}`)).status).toBe(404);
  });

  it('answers GET /orders from the order_view read model, GET /orders/:id from the order itself', async () => {
    const orders = shop.dbs.orders as Db;
    const stale = { status: 'PAYMENT_PROCESSING', customer: 'someone-else' };
    await orders.query(`UPDATE order_view SET status = $2, customer_id = $3 WHERE order_id = $1`, [bobOrder, stale.status, stale.customer]);
    try {
      const listed = await http<{ orders: { orderId: string; status: string }[] }>(base, admin, `/orders?customerId=${stale.customer}`);
      expect(listed.body.orders).toMatchObject([{ orderId: bobOrder, status: stale.status }]);
      expect((await http<{ orders: unknown[] }>(base, admin, '/orders?customerId=bob')).body.orders).toEqual([]);
      expect(await stateOf(bobOrder)).toBe('SHIPPED');
    } finally {
      await orders.query(`UPDATE order_view SET status = 'SHIPPED', customer_id = 'bob' WHERE order_id = $1`, [bobOrder]);
    }
  });

  it("shows a customer the order's state changes, not the messages between services", async () => {
    const asAdmin = (await http<OrderDetails>(base, admin, `/orders/${aliceOrder}`)).body;
    expect(asAdmin.timeline.some((t) => t.type === 'command:ProcessPayment')).toBe(true);
    const r = await http<OrderDetails>(base, alice, `/orders/${aliceOrder}`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('SHIPPED');
    expect(r.body.timeline.length).toBeGreaterThan(3);
    for (const t of r.body.timeline) {
      expect(t.type).toBe('transition');
      expect(Object.keys(t).sort()).toEqual(['at', 'data', 'type', ...(t.from ? ['from'] : []), 'to'].sort());
      expect(Object.keys(t.data as object).every((k) => k === 'event')).toBe(true);
    }
    expect(r.body.timeline.map((t) => t.to)).toEqual(asAdmin.timeline.filter((t) => t.type === 'transition').map((t) => t.to));
    expect(JSON.stringify(r.body.timeline)).not.toMatch(/amount|reservationId|paymentId|trackingNumber|customerId/);
  });

  it("shows customers price and availability, and only the admin others' reservations and shipments", async () => {
    const asCustomer = await http<Record<string, unknown>[]>(base, alice, '/inventory');
    expect(asCustomer.status).toBe(200);
    for (const s of asCustomer.body) expect(Object.keys(s).sort()).toEqual(['available', 'name', 'sku', 'unitPrice']);
    expect(Object.keys((await http<Record<string, unknown>>(base, alice, '/inventory/TEA-GREEN')).body).sort()).toEqual(['available', 'name', 'sku', 'unitPrice']);
    // Both orders shipped: the catalogue follows PackageShipped too, through the inventory's stock feed — a hop behind the order.
    const teaAsAdmin = async () => (await http<{ sku: string; reserved: number; shipped: number }[]>(base, admin, '/inventory')).body.find((s) => s.sku === 'TEA-GREEN');
    await waitUntil('the catalogue to show both shipments', async () => (await teaAsAdmin())?.shipped === 2);
    expect(await teaAsAdmin()).toMatchObject({ reserved: 0, shipped: 2 });
  });

  it("changes stock through the inventory service (SetStock via the outbox, applied with its inbox), and prices from the gateway's catalogue", async () => {
    const put = await http<{ sku: string; available: number; unitPrice: number }>(base, admin, '/inventory/OWN-1', { method: 'PUT', body: { available: 5, unitPrice: 990, name: 'Own one' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ sku: 'OWN-1', available: 5, unitPrice: 990 });
    const orders = shop.dbs.orders as Db;
    const inventory = shop.dbs.inventory as Db;
    const sent = (await orders.query<{ id: string }>(`SELECT id FROM ordo_messages WHERE type = 'SetStock' AND data->>'sku' = 'OWN-1'`)).rows;
    expect(sent).toHaveLength(1);
    expect((await inventory.query(`SELECT 1 FROM ordo_inbox WHERE consumer = 'inventory' AND message_id = $1`, [sent[0]?.id])).rows).toHaveLength(1);
    // A write behind the inventory service's back is invisible to the gateway: it reads its own catalogue, not these tables.
    await inventory.query(`UPDATE stock SET unit_price = 1, available = 0 WHERE sku = 'OWN-1'`);
    expect((await http<{ unitPrice: number; available: number }>(base, admin, '/inventory/OWN-1')).body).toMatchObject({ unitPrice: 990, available: 5 });
    const placed = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId: 'carol', items: [{ sku: 'OWN-1', quantity: 2 }] } });
    expect((await http<{ total: number }>(base, admin, `/orders/${placed.body.orderId}`)).body.total).toBe(1980);
  });

  it('records every admin action with actor, time, request id and what changed; a minted token can be revoked at once', async () => {
    const put = await http(base, admin, '/inventory/OWN-2', { method: 'PUT', body: { available: 3, unitPrice: 100 }, headers: { 'x-request-id': 'req-own-2' } });
    expect(put.status).toBe(200);
    await http(base, admin, '/inventory/OWN-2', { method: 'PUT', body: { available: 4 } });
    const minted = await http<{ token: string; tokenId: string; customerId: string; expiresAt: string }>(base, admin, '/tokens', { method: 'POST', body: { customerId: 'dave', ttlSeconds: 3600 } });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ customerId: 'dave', tokenId: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) as string });
    expect(Date.parse(minted.body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect((await http(base, minted.body.token, '/orders')).status).toBe(200);
    const revoked = await http<{ alreadyRevoked: boolean }>(base, admin, `/tokens/${minted.body.tokenId}`, { method: 'DELETE', body: { reason: 'test' } });
    expect(revoked.status).toBe(200);
    expect((await http<ErrorBody>(base, minted.body.token, '/orders')).status).toBe(401);
    expect((await http(base, admin, '/admin/reconcile', { method: 'POST' })).status).toBe(200);
    expect((await http(base, alice, '/tokens', { method: 'POST', body: { customerId: 'alice' } })).status).toBe(403);

    const all = (await http<{ entries: AuditEntry[] }>(base, admin, '/admin/audit')).body.entries;
    const actions = all.map((e) => e.action);
    for (const a of ['stock.set', 'token.mint', 'token.revoke', 'reconcile.run']) expect(actions, a).toContain(a);
    for (const e of all) {
      expect(e.actor).toMatch(/^admin:[0-9a-f]{12}$/);
      expect(e.outcome).toBe('ok');
      expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 120_000);
      expect(JSON.stringify(e)).not.toContain(admin);
    }
    const stock = (await http<{ entries: AuditEntry[]; nextBefore?: string }>(base, admin, '/admin/audit?action=stock.set&limit=1')).body;
    expect(stock.entries[0]).toMatchObject({ target: 'OWN-2', input: { available: 4 }, before: { available: 3 }, after: { available: 4 } });
    const older = (await http<{ entries: AuditEntry[] }>(base, admin, `/admin/audit?action=stock.set&limit=1&before=${stock.nextBefore}`)).body.entries;
    expect(older[0]).toMatchObject({ requestId: 'req-own-2', target: 'OWN-2', after: { available: 3, unitPrice: 100 } });
    expect(older[0]?.before).toBeUndefined(); // the SKU did not exist
    const revokeEntry = all.find((e) => e.action === 'token.revoke');
    expect(revokeEntry).toMatchObject({ target: minted.body.tokenId, input: { reason: 'test' }, after: { tokenId: minted.body.tokenId, alreadyRevoked: false } });
    expect(JSON.stringify(all)).not.toContain(minted.body.token.split('.').at(-1));
    expect((await http(base, alice, '/admin/audit')).status).toBe(403);
  });
});
