import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WiringMode } from './services/service-definitions.js';
import { silentLogger } from '../observe/index.js';
import type { Db } from '../store/index.js';
import { http, placeOrders, timelineProblems, waitForQuiet } from './e2e-support.js';
import type { OrderDetails } from './gateway/schemas.js';
import { startShop, type RunningShop } from './shop.js';
import type { ShopDbs } from './shop-invariants.js';

const ORDERS = Number(process.env['ORDO_E2E_ORDERS'] ?? 2000);
const SKUS = ['A', 'B', 'C', 'D'];
// Less stock than 2,000 orders want, so reservations are also refused.
const STOCK = Math.round(ORDERS * 0.4);

/**
 * The embedded shop (PGlite + in-process) under ORDERS orders with failures injected, in one
 * wiring; one test file per wiring, so the two run side by side (each shop is one core's work).
 */
export function describeEmbeddedShop(mode: WiringMode): void {
  describe(`the embedded shop (PGlite + in-process), ${mode}`, () => {
    let shop: RunningShop;
    let base: string;
    let token: string;
    let dbs: ShopDbs;
    const initial = new Map(SKUS.map((s) => [s, STOCK]));

    beforeAll(async () => {
      shop = await startShop({
        mode,
        storage: { kind: 'pglite' },
        transport: { kind: 'inprocess' },
        port: 0,
        log: silentLogger(),
        seed: false,
        simulation: { seed: `e2e-${mode}`, declineRate: 0.1, errorRate: 0.05, neverAnswersRate: 0.01, shipmentFailureRate: 0.05, refundFailureRate: 0, deliveryDelayMs: 100 },
        delays: { paymentTimeout: '3s', reservationTimeout: '20s', compensationTimeout: '60s' },
      });
      base = shop.url ?? '';
      token = shop.tokens.adminToken;
      const d = shop.dbs;
      dbs = { orders: d.orders as Db, inventory: d.inventory as Db, payment: d.payment as Db, shipping: d.shipping as Db };
      for (const sku of SKUS) expect((await http(base, token, `/inventory/${sku}`, { method: 'PUT', body: { available: STOCK, unitPrice: 500 } })).status).toBe(200);
    });
    afterAll(async () => shop?.stop());

    it(`takes ${ORDERS} orders with failures to DELIVERED or CANCELED and keeps every invariant`, async () => {
      const ids = await placeOrders(base, token, ORDERS, SKUS);
      expect(new Set(ids).size).toBe(ORDERS);
      const report = await waitForQuiet(dbs, initial, 180_000);
      expect(report.violations).toEqual([]);
      expect(report.orders).toBe(ORDERS);
      expect(Object.keys(report.byStatus).sort()).toEqual(['CANCELED', 'DELIVERED']);
      // The failure paths really ran: refused stock, declined cards, provider timeouts, failed shipments.
      const reasons = (await dbs.orders.query<{ r: string }>(`SELECT DISTINCT split_part(snapshot->'context'->>'failureReason', ':', 1) AS r FROM ordo_saga_instances WHERE state = 'CANCELED'`)).rows.map((x) => x.r.replace(/ \(.*/, ''));
      expect(reasons).toEqual(expect.arrayContaining(['InventoryInsufficient', 'PaymentRefused', 'ShipmentFailed', ...(ORDERS >= 1000 ? ['timed out'] : [])]));

      for (const id of ids.slice(0, 200)) {
        const { status, body } = await http<OrderDetails>(base, token, `/orders/${id}`);
        expect(status).toBe(200);
        expect(timelineProblems(body.status, body.timeline), id).toEqual([]);
      }
    }, 600_000);
  });
}
