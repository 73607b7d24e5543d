import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type OrdoMetrics } from '../../observe/index.js';
import { freshPostgres, pgliteFactory, type FreshDatabase } from '../../testing/index.js';
import { pgliteShopDatabases, SKU, startReconcileShop, untilState, waitFor, type ReconcileShop } from '../reconcile/reconcile-fixture.js';
import { createShopReconciler } from '../reconcile/shop-reconciler.js';
import type { WiringMode } from '../services/service-definitions.js';
import { createAdminBackend } from '../admin-backend.js';
import type { ShopBackend } from '../gateway/backend.js';
import { createPropertyMonitor, PROPERTY_ALERT, SYSTEM_SUBJECT, type PropertyMonitor } from './property-monitor.js';

// The shop runs to completion on its four real databases; then one database is edited
// behind the system's back (a restore from the wrong backup, a hand-made UPDATE), and the
// monitor must name exactly the invariant that edit breaks — and nothing without an edit.
// The alerts list reads only the orders database; the customer API is not needed for it.
const noCustomerApi = undefined as unknown as ShopBackend;
const pglite = pgliteShopDatabases(pgliteFactory);
afterAll(async () => (await pglite).close());

const setups: [string, WiringMode, () => Promise<FreshDatabase>][] = [
  ['pglite', 'orchestration', async () => (await pglite).fresh()],
  ['postgres', 'orchestration', () => freshPostgres('monitor')],
  ['postgres', 'choreography', () => freshPostgres('monitor')],
];

describe.each(setups)('the runtime property monitor on %s (%s)', (_engine, mode, open) => {
  let shop: ReconcileShop;
  let metrics: OrdoMetrics;
  let monitor: PropertyMonitor;
  const delivered = `delivered-${randomUUID().slice(0, 8)}`;
  const canceled = `canceled-${randomUUID().slice(0, 8)}`;

  const openAlerts = async () =>
    (await shop.dbs.orders.query<{ saga_id: string; property: string }>(`SELECT saga_id, detail->>'property' AS property FROM ordo_saga_alerts WHERE kind = $1 AND resolved_at IS NULL ORDER BY id`, [PROPERTY_ALERT])).rows;
  const gauge = async (property: string) => (await metrics.propertyViolations.get()).values.find((v) => v.labels.property === property)?.value;
  const findings = async () => (await monitor.run()).findings.map((f) => `${f.property} ${f.subject ?? SYSTEM_SUBJECT}`);

  beforeAll(async () => {
    shop = await startReconcileShop(mode, open);
    metrics = createMetrics();
    monitor = createPropertyMonitor({ orders: shop.orders, views: shop.dbs, graceMs: 0, metrics });
    // One order delivered (the fixture has no carrier: its delivery is confirmed here).
    await shop.place(delivered);
    await untilState(shop, delivered, 'SHIPPED');
    await shop.orders.engine.deliver([{ id: `${delivered}:delivered`, key: delivered, type: 'DeliveryConfirmed', payload: {} }]);
    shop.orders.notify();
    await untilState(shop, delivered, 'DELIVERED');
    // One canceled before its payment was ever asked for (the request is lost).
    shop.transport.dropOnce((m) => m.key === canceled && ['ProcessPayment', 'PaymentRequested'].includes(m.type));
    await shop.place(canceled);
    await untilState(shop, canceled, 'PAYMENT_PROCESSING');
    await shop.orders.engine.deliver([{ id: `${canceled}:cancel`, key: canceled, type: 'CancelRequested', payload: { reason: 'changed my mind' } }]);
    shop.orders.notify();
    await untilState(shop, canceled, 'CANCELED');
    await waitFor('the release', async () => (await shop.dbs.inventory.query<{ status: string }>('SELECT status FROM reservations WHERE order_id = $1', [canceled])).rows[0]?.status === 'released');
  }, 60_000);
  afterAll(async () => shop?.stop());

  it('without an edit: every invariant is judged (none skipped) and holds; no alert, the gauge at 0', async () => {
    const r = await monitor.run();
    expect(r.findings).toEqual([]);
    expect(r.reports.map((x) => [x.property, x.scope, x.skipped ?? 'judged', x.violations])).toEqual([
      ['StockConservation', 'system', 'judged', 0],
      ['AtMostOneCapture', 'key', 'judged', 0],
      ['NoUnpaidShipment', 'key', 'judged', 0],
      ['NoChargeWithoutRefund', 'key', 'judged', 0],
    ]);
    expect(r.reports.find((x) => x.property === 'NoUnpaidShipment')?.evaluated).toBe(2);
    expect(await openAlerts()).toEqual([]);
    expect(await gauge('StockConservation')).toBe(0);
  });

  it('stock changed behind the inventory service: StockConservation, and only it, raises an alert; undone, the alert is resolved', async () => {
    await shop.dbs.inventory.query('UPDATE stock SET available = available + 1 WHERE sku = $1', [SKU]);
    expect(await findings()).toEqual([`StockConservation ${SYSTEM_SUBJECT}`]);
    expect(await openAlerts()).toEqual([{ saga_id: SYSTEM_SUBJECT, property: 'StockConservation' }]);
    expect(await gauge('StockConservation')).toBe(1);
    // A second round finds it again but raises no second alert.
    await monitor.run();
    expect(await openAlerts()).toHaveLength(1);
    await shop.dbs.inventory.query('UPDATE stock SET available = available - 1 WHERE sku = $1', [SKU]);
    expect(await findings()).toEqual([]);
    expect(await openAlerts()).toEqual([]);
    expect(await gauge('StockConservation')).toBe(0);
  });

  it('a delivered order\'s charge marked refunded: NoUnpaidShipment names that order', async () => {
    await shop.dbs.payment.query(`UPDATE charges SET status = 'refunded' WHERE order_id = $1`, [delivered]);
    expect(await findings()).toEqual([`NoUnpaidShipment ${delivered}`]);
    expect(await openAlerts()).toEqual([{ saga_id: delivered, property: 'NoUnpaidShipment' }]);
    expect(await gauge('NoUnpaidShipment')).toBe(1);
    // The dashboard's alerts list (GET /admin/alerts reads the same) shows it, naming the property.
    expect(await createAdminBackend({ orders: shop.orders, shop: noCustomerApi }).alerts({ includeResolved: false, limit: 10 })).toMatchObject([
      { sagaId: delivered, kind: PROPERTY_ALERT, sagaState: 'DELIVERED', retryable: false, detail: { property: 'NoUnpaidShipment', scope: 'key', formula: 'forall k: (shipping[k].status in {shipped, delivered} => payment[k].status in {approved})' } },
    ]);
    await shop.dbs.payment.query(`UPDATE charges SET status = 'approved' WHERE order_id = $1`, [delivered]);
    expect(await findings()).toEqual([]);
  });

  it('a captured charge restored for a canceled order, found in the reconciler\'s round: NoChargeWithoutRefund names it', async () => {
    // The payment database comes back from a backup taken while the charge was captured (or before a retried request was refused).
    const before = (await shop.dbs.payment.query<{ status: string; payment_id: string | null }>('SELECT status, payment_id FROM charges WHERE order_id = $1', [canceled])).rows[0];
    await shop.dbs.payment.query(
      `INSERT INTO charges (order_id, customer_id, amount, status, payment_id) VALUES ($1, 'alice', 1700, 'approved', 'pay-restored')
       ON CONFLICT (order_id) DO UPDATE SET status = 'approved', payment_id = 'pay-restored'`,
      [canceled],
    );
    const reconciler = createShopReconciler({ orders: shop.orders, views: shop.dbs, mode, intervalMs: false, graceMs: 3_600_000, extraChecks: [monitor.check] });
    await reconciler.start();
    try {
      const round = await reconciler.runOnce();
      expect(round.checks.find((c) => c.check === 'system-properties')).toMatchObject({ found: 0, failed: 0 });
    } finally {
      await reconciler.stop();
    }
    expect(await openAlerts()).toEqual([{ saga_id: canceled, property: 'NoChargeWithoutRefund' }]);
    expect(await gauge('NoChargeWithoutRefund')).toBe(1);
    if (before) await shop.dbs.payment.query('UPDATE charges SET status = $2, payment_id = $3 WHERE order_id = $1', [canceled, before.status, before.payment_id]);
    else await shop.dbs.payment.query('DELETE FROM charges WHERE order_id = $1', [canceled]);
    expect(await findings()).toEqual([]);
  });

  it('an order in flight is not judged, and system-wide properties wait until nothing moves', async () => {
    const moving = `moving-${randomUUID().slice(0, 8)}`;
    shop.transport.dropOnce((m) => m.key === moving && ['ProcessPayment', 'PaymentRequested'].includes(m.type));
    await shop.place(moving);
    await untilState(shop, moving, 'PAYMENT_PROCESSING');
    const r = await monitor.run();
    expect(r.findings).toEqual([]);
    expect(r.reports.find((x) => x.property === 'StockConservation')?.skipped).toBe('1 key(s) in flight');
    expect(r.reports.find((x) => x.property === 'AtMostOneCapture')?.evaluated).toBe(2);
  });
});
