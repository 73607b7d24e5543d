import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestShop } from '../e2e-support.js';
import type { RunningShop } from '../shop.js';

type ErrorBody = { error: { code: string; message: string; fields?: { path: string; message: string }[] } };

/** Money is 64-bit end to end: gateway, catalogue, order saga, payment service, provider, order view. */
describe('amounts past 32 bits (embedded shop)', () => {
  let shop: RunningShop;
  let base: string;
  let admin: string;

  beforeAll(async () => {
    shop = await startTestShop('money', {
      seed: false,
      delays: { paymentTimeout: '20s' },
    });
    base = shop.url ?? '';
    admin = shop.tokens.adminToken;
  });
  afterAll(async () => shop?.stop());

  const put = (sku: string, body: unknown) => http<{ unitPrice: number } & ErrorBody>(base, admin, `/inventory/${sku}`, { method: 'PUT', body });
  const order = (items: { sku: string; quantity: number }[]) => http<{ orderId: string } & ErrorBody>(base, admin, '/orders', { method: 'POST', body: { customerId: 'big-spender', items } });

  it('takes a unit price above 2^31 − 1 and gives it back exactly', async () => {
    const r = await put('GOLD', { available: 10, unitPrice: 2 ** 31 });
    expect(r.status).toBe(200);
    expect(r.body.unitPrice).toBe(2 ** 31);
    expect((await http<{ unitPrice: number }>(base, admin, '/inventory/GOLD')).body.unitPrice).toBe(2 ** 31);
  });

  it('charges an order whose total is past 2^31 cents and carries it to SHIPPED', async () => {
    expect((await put('PRICEY', { available: 1000, unitPrice: 3_000_000 })).status).toBe(200);
    const placed = await order([{ sku: 'PRICEY', quantity: 1000 }]);
    expect(placed.status).toBe(202);
    let body: { status: string; total: number } = { status: '', total: 0 };
    for (let i = 0; i < 300 && body.status !== 'SHIPPED'; i++) {
      body = (await http<{ status: string; total: number }>(base, admin, `/orders/${placed.body.orderId}`)).body;
      if (body.status !== 'SHIPPED') await new Promise((r) => setTimeout(r, 50));
    }
    expect(body).toMatchObject({ status: 'SHIPPED', total: 3_000_000_000 });
    const charge = (await shop.dbs.payment?.query<{ amount: unknown }>('SELECT amount FROM charges WHERE order_id = $1', [placed.body.orderId]))?.rows[0];
    expect(String(charge?.amount)).toBe('3000000000');
  });

  it('refuses a unit price past 2^53 − 1 with a message on the field', async () => {
    const r = await put('TOO-MUCH', { available: 1, unitPrice: 2 ** 53 });
    expect(r.status).toBe(400);
    expect(r.body.error.fields?.map((f) => f.path)).toEqual(['unitPrice']);
  });

  it('refuses a line total or an order total past 2^53 − 1 cents with a 400 per field, and places nothing', async () => {
    expect((await put('HUGE', { available: 10, unitPrice: 2 ** 52 })).status).toBe(200);
    const count = async () => Number((await shop.dbs.orders?.query<{ n: string }>('SELECT count(*) AS n FROM ordo_saga_instances'))?.rows[0]?.n);
    const before = await count();
    const line = await order([{ sku: 'HUGE', quantity: 3 }]);
    expect(line.status).toBe(400);
    expect(line.body.error.code).toBe('AMOUNT_OUT_OF_RANGE');
    expect(line.body.error.fields).toEqual([{ path: 'items.0', message: expect.stringMatching(/line total 3 × 4503599627370496 cents is more than 9007199254740991/) as string }]);
    const total = await order([{ sku: 'HUGE', quantity: 1 }, { sku: 'HUGE', quantity: 1 }]);
    expect(total.status).toBe(400);
    expect(total.body.error.fields?.map((f) => f.path)).toEqual(['items']);
    expect(await count()).toBe(before);
  });
});
