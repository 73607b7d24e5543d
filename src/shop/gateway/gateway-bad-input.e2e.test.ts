import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observe/index.js';
import type { Db } from '../../store/index.js';
import { http, QUIET_SIMULATION } from '../e2e-support.js';
import { startShop, type RunningShop } from '../shop.js';

/** Row counts of every table in every service database: "no trace" means these do not move. */
async function footprint(dbs: Readonly<Record<string, Db | undefined>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [service, db] of Object.entries(dbs)) {
    if (!db) continue;
    const tables = (await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'ordo_migrations' ORDER BY 1`)).rows;
    for (const { t } of tables) out[`${service}.${t}`] = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n ?? 0);
  }
  return out;
}

describe('the gateway refuses bad input with a clear 4xx and leaves no trace', () => {
  let shop: RunningShop;
  let base: string;
  let admin: string;
  let alice: string;
  let before: Record<string, number>;

  beforeAll(async () => {
    shop = await startShop({ mode: 'orchestration', storage: { kind: 'pglite' }, transport: { kind: 'inprocess' }, port: 0, log: silentLogger(), simulation: { ...QUIET_SIMULATION } });
    base = shop.url ?? '';
    admin = shop.tokens.adminToken;
    alice = shop.tokens.customerToken('alice');
    before = await footprint(shop.dbs);
  });
  afterAll(async () => shop?.stop());

  const post = (body: unknown, token = alice, headers: Record<string, string> = {}) => http<{ error: { code: string; message: string; fields?: { path: string }[] } }>(base, token, '/orders', { method: 'POST', body, headers });

  it.each([
    ['malformed JSON', '{"items": [', 400, 'MALFORMED_JSON', /not valid JSON/],
    ['a JSON array instead of an object', '[]', 400, 'VALIDATION', /expected object/],
    ['items of the wrong type', { items: 'TEA-GREEN' }, 400, 'VALIDATION', /items: /],
    ['a quantity that is a string', { items: [{ sku: 'TEA-GREEN', quantity: '2' }] }, 400, 'VALIDATION', /items\.0\.quantity/],
    ['zero quantity', { items: [{ sku: 'TEA-GREEN', quantity: 0 }] }, 400, 'VALIDATION', /items\.0\.quantity: must be at least 1/],
    ['negative quantity', { items: [{ sku: 'TEA-GREEN', quantity: -3 }] }, 400, 'VALIDATION', /items\.0\.quantity: must be at least 1/],
    ['a fractional quantity', { items: [{ sku: 'TEA-GREEN', quantity: 1.5 }] }, 400, 'VALIDATION', /items\.0\.quantity: must be a whole number/],
    ['no items', { items: [] }, 400, 'VALIDATION', /at least one item/],
    ['an unknown field', { items: [{ sku: 'TEA-GREEN', quantity: 1 }], coupon: 'FREE' }, 400, 'VALIDATION', /coupon/],
    ['an unknown SKU', { items: [{ sku: 'TEA-GREEN', quantity: 1 }, { sku: 'UNICORN', quantity: 1 }] }, 400, 'UNKNOWN_SKU', /items\.1\.sku: unknown SKU "UNICORN"/],
  ])('%s', async (_name, body, status, code, message) => {
    const r = await post(body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toMatch(message);
  });

  it('a 10 MB body gets 413', async () => {
    const huge = JSON.stringify({ items: [{ sku: 'x'.repeat(10 * 1024 * 1024), quantity: 1 }] });
    const r = await post(huge);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('BODY_TOO_LARGE');
  });

  it('no token, a bad token, or a forged customer token gets 401', async () => {
    for (const token of ['', 'nonsense', 'cust.alice.forged-signature', `${admin}x`]) {
      const r = await post({ items: [{ sku: 'TEA-GREEN', quantity: 1 }] }, token);
      expect(r.status, token).toBe(401);
    }
  });

  it('a customer token acting for someone else gets 403', async () => {
    const r = await post({ customerId: 'bob', items: [{ sku: 'TEA-GREEN', quantity: 1 }] });
    expect(r.status).toBe(403);
  });

  it('the admin must say which customer it acts for', async () => {
    const r = await post({ items: [{ sku: 'TEA-GREEN', quantity: 1 }] }, admin);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/customerId/);
  });

  it('a customer may not change stock', async () => {
    const r = await http(base, alice, '/inventory/TEA-GREEN', { method: 'PUT', body: { available: 1 } });
    expect(r.status).toBe(403);
  });

  it('unknown orders are 404, and a bad id is 400', async () => {
    expect((await http(base, alice, '/orders/6f1d6a3e-1111-4a4a-8a8a-123456789abc')).status).toBe(404);
    expect((await http(base, alice, '/orders/not-a-uuid')).status).toBe(400);
    expect((await http(base, alice, '/orders?limit=0')).status).toBe(400);
    expect((await http(base, alice, '/orders?cursor=garbage')).status).toBe(400);
  });

  it('none of the above left a trace in any database', async () => {
    expect(await footprint(shop.dbs)).toEqual(before);
  });

  it('an Idempotency-Key returns the same order, and reused with another body is 409', async () => {
    const body = { items: [{ sku: 'TEA-GREEN', quantity: 2 }] };
    const first = await post(body, alice, { 'idempotency-key': 'k-1' });
    const again = await post(body, alice, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect((again.body as unknown as { orderId: string }).orderId).toBe((first.body as unknown as { orderId: string }).orderId);
    const afterFirst = await footprint(shop.dbs);
    const other = await post({ items: [{ sku: 'TEA-GREEN', quantity: 3 }] }, alice, { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const orders = (await shop.dbs.orders?.query<{ n: string }>(`SELECT count(*) AS n FROM ordo_saga_instances`))?.rows[0]?.n;
    expect(Number(orders)).toBe(1);
    expect((await footprint(shop.dbs))['orders.ordo_saga_instances']).toBe(afterFirst['orders.ordo_saga_instances']);
  });

  it('a foreign order looks missing to another customer, and cancelling a delivered-path order too late is 409', async () => {
    const mine = await post({ items: [{ sku: 'TEA-GREEN', quantity: 1 }] });
    const id = (mine.body as unknown as { orderId: string }).orderId;
    const bob = shop.tokens.customerToken('bob');
    expect((await http(base, bob, `/orders/${id}`)).status).toBe(404);
    expect((await http(base, bob, `/orders/${id}/cancel`, { method: 'POST' })).status).toBe(404);
    // Wait until it is past the point of cancelling. A quiet world: the default one leaves 1 % of
    // orders without a payment answer until the saga's 60 s timeout, longer than this waits
    // (seen once in CI: PAYMENT_PROCESSING after 6 s), and declines 10 % (then there is no 409 to see).
    let status = '';
    for (let i = 0; i < 100 && !['SHIPPED', 'CANCELED', 'DELIVERED'].includes(status); i++) {
      status = (await http<{ status: string }>(base, alice, `/orders/${id}`)).body.status;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('SHIPPED'); // the carrier never confirms (deliveryDelayMs -1)
    const late = await http<{ error: { code: string } }>(base, alice, `/orders/${id}/cancel`, { method: 'POST' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('NOT_CANCELLABLE');
  });
});
