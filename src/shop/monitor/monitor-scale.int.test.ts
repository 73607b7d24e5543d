import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, pgliteFactory, type FreshDatabase } from '../../testing/index.js';
import { pgliteShopDatabases, startReconcileShop, type ReconcileShop } from '../reconcile/reconcile-fixture.js';
import { createPropertyMonitor, type PropertyMonitorOptions } from './property-monitor.js';

// A shop keeps 30 days of orders: a monitor round must cost what changed and a bounded
// slice of the rest, never a read of every order (the old monitor read all 20,001 here at
// every round), and still find an edit made later to any of them.
const KEPT = 20_000;
const pglite = pgliteShopDatabases(pgliteFactory);
afterAll(async () => (await pglite).close());

const setups: [string, () => Promise<FreshDatabase>][] = [
  ['pglite', async () => (await pglite).fresh()],
  ['postgres', () => freshPostgres('monitor_scale')],
];

const id = (i: number) => `kept-${String(i).padStart(5, '0')}`;

describe.each(setups)('the property monitor beside 20,000 orders kept, on %s', (_engine, open) => {
  let shop: ReconcileShop;
  const monitorOf = (o: Partial<PropertyMonitorOptions> = {}) => createPropertyMonitor({ orders: shop.orders, views: shop.dbs, graceMs: 0, newlyQuietPerRound: 2_000, sweepPerRound: 1_000, ...o });
  const judged = (r: Awaited<ReturnType<ReturnType<typeof monitorOf>['run']>>, property: string) => r.reports.find((x) => x.property === property);

  /** `n` delivered orders as the services leave them, settled a day ago (one ms apart). */
  async function keep(from: number, n: number, ago = "interval '1 day'") {
    const ids = Array.from({ length: n }, (_, i) => id(from + i));
    await shop.dbs.orders.query(
      `INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, revision, stream_version, created_at, updated_at)
       SELECT k, $2, 1, 'DELIVERED', 'final', '{}'::jsonb, 1, 1, now() - ${ago}, now() - ${ago} + o * interval '1 millisecond' FROM unnest($1::text[]) WITH ORDINALITY AS u(k, o)`,
      [ids, shop.orders.machine.id],
    );
    await shop.dbs.inventory.query(`INSERT INTO reservations (order_id, status, items) SELECT k, 'released', '[]' FROM unnest($1::text[]) AS k`, [ids]);
    await shop.dbs.payment.query(`INSERT INTO charges (order_id, customer_id, amount, status, payment_id) SELECT k, 'alice', 1700, 'approved', 'pay-' || k FROM unnest($1::text[]) AS k`, [ids]);
    await shop.dbs.shipping.query(`INSERT INTO shipments (order_id, status, items, shipped_at, delivered_at) SELECT k, 'delivered', '[]', now(), now() FROM unnest($1::text[]) AS k`, [ids]);
  }

  beforeAll(async () => {
    shop = await startReconcileShop('orchestration', open);
    await keep(0, KEPT);
    // One order in flight: the shop is never idle, so the full read is never the answer.
    await shop.dbs.orders.query(`INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, revision, stream_version) VALUES ('moving', $1, 1, 'PAYMENT_PROCESSING', 'active', '{}'::jsonb, 1, 1)`, [shop.orders.machine.id]);
    for (const db of Object.values(shop.dbs)) await db.query('ANALYZE');
  }, 120_000);
  afterAll(async () => shop?.stop());

  it('a round judges the orders that became quiet and a slice of the sweep, not every order kept; system-wide properties wait', async () => {
    const monitor = monitorOf();
    const first = await monitor.run();
    // The 2,000 oldest that settled; the sweep's first 1,000 by id are among them.
    expect(judged(first, 'NoUnpaidShipment')).toMatchObject({ scope: 'key', evaluated: 2_000, violations: 0 });
    expect(judged(first, 'StockConservation')?.skipped).toBe('1 key(s) in flight');
    const second = await monitor.run();
    expect(judged(second, 'NoUnpaidShipment')?.evaluated).toBe(3_000); // the next 2,000 settled, the sweep's 1,000–1,999
  }, 60_000);

  it('an order that settles later is judged at the next round; an edit to an order judged long ago is found by the sweep', async () => {
    const monitor = monitorOf({ newlyQuietPerRound: 5_000, sweepPerRound: 5_000 });
    for (let round = 0; round < 4; round++) expect((await monitor.run()).findings).toEqual([]); // the crawl has caught up
    await keep(KEPT, 1, "interval '0 seconds'");
    await shop.dbs.payment.query(`UPDATE charges SET status = 'declined' WHERE order_id = $1`, [id(KEPT)]);
    const next = await monitor.run();
    expect(next.findings.map((f) => `${f.property} ${f.subject}`)).toContain(`NoUnpaidShipment ${id(KEPT)}`);
    // Long judged, now edited behind the services' backs: the sweep reaches it within a pass over every order.
    await shop.dbs.payment.query(`UPDATE charges SET status = 'refunded' WHERE order_id = $1`, [id(3)]);
    let rounds = 0;
    let found = false;
    while (!found && rounds < Math.ceil((KEPT + 1) / 5_000) + 1) {
      rounds++;
      found = (await monitor.run()).findings.some((f) => f.subject === id(3));
    }
    expect(found).toBe(true);
    // The alert's order is judged every round until it holds again, whatever the sweep reads.
    await shop.dbs.payment.query(`UPDATE charges SET status = 'approved' WHERE order_id = ANY($1::text[])`, [[id(3), id(KEPT)]]);
    await monitor.run();
    expect((await shop.dbs.orders.query(`SELECT saga_id FROM ordo_saga_alerts WHERE kind = 'property-violated' AND resolved_at IS NULL`)).rows).toEqual([]);
  }, 60_000);

  it('nothing in flight: system-wide properties are judged on a full read up to systemMaxKeys, and reported skipped above it', async () => {
    await shop.dbs.orders.query(`UPDATE ordo_saga_instances SET state = 'DELIVERED', status = 'final' WHERE id = 'moving'`);
    expect(judged(await monitorOf({ systemMaxKeys: 10_000 }).run(), 'StockConservation')?.skipped).toBe('more than 10000 keys: too many to read at once');
    const full = await monitorOf({ systemMaxKeys: 50_000 }).run();
    expect(judged(full, 'StockConservation')).toMatchObject({ scope: 'system', violations: 0 });
    expect(judged(full, 'StockConservation')?.skipped).toBeUndefined();
    expect(judged(full, 'NoUnpaidShipment')?.evaluated).toBe(KEPT + 2);
  }, 60_000);
});
