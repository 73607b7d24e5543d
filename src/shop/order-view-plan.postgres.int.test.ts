import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTimeCursor } from '../eventsourcing/index.js';
import type { Db } from '../store/index.js';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { customPlan, type PlanNode } from '../testing/query-plan.js';
import { listOrders, listOrdersSql, orderViewProjection, type ListOrdersQuery } from './order-view.js';

/** Every node of the plan PostgreSQL picks for the very statement `listOrders` runs. */
async function planOf(db: Db, query: ListOrdersQuery): Promise<PlanNode[]> {
  const { sql, params } = listOrdersSql(query);
  return customPlan(db, sql, params);
}

const STATES = ['INVENTORY_RESERVING', 'PAYMENT_PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELED'];

/** GET /orders on the PostgreSQL server: every filter it serves is answered through an index, at 10,000 orders. */
describe('order_view query plans (PostgreSQL server, 10,000 orders)', () => {
  let fresh: FreshDatabase;
  let db: Db;
  beforeAll(async () => {
    fresh = await freshPostgres('order_plan');
    db = fresh.db;
    await orderViewProjection.setup(db, orderViewProjection.table);
    // 200 customers with 50 orders each, spread over five states and ten days.
    await db.query(
      `INSERT INTO order_view (order_id, stream, customer_id, status, total, items, failure_reason, version, created_at, updated_at)
       SELECT 'o-' || i, 'order-o-' || i, 'cust-' || (i % 200), ($1::text[])[1 + i % 5], 100, '[]', NULL, 3,
              timestamptz '2026-01-01' + i * interval '86 seconds' + (i % 7) * interval '1 microsecond', now()
       FROM generate_series(1, 10000) AS i`,
      [STATES],
    );
    await db.query('ANALYZE order_view');
  });
  afterAll(() => fresh?.close());

  const cursor = encodeTimeCursor('2026-01-05 00:00:00.000003+00', 'o-4000');
  it.each<[string, ListOrdersQuery, string[]]>([
    ["a customer's orders", { customerId: 'cust-42' }, ['order_view_customer']],
    ["a customer's next page", { customerId: 'cust-42', cursor }, ['order_view_customer']],
    ["a customer's orders in one state", { customerId: 'cust-42', status: 'SHIPPED' }, ['order_view_customer']],
    ['the orders in one state', { status: 'CANCELED' }, ['order_view_status', 'order_view_created']],
    // One order in five matches: walking the time index and skipping the others is as good.
    ['the next page of a state', { status: 'CANCELED', cursor }, ['order_view_status', 'order_view_created']],
  ])('%s: through its index, no sequential scan', async (_what, query, indexes) => {
    const plan = await planOf(db, query);
    expect(plan.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    const scans = plan.filter((n) => n['Index Name'] !== undefined);
    expect(scans).toHaveLength(1);
    expect(indexes).toContain(scans[0]?.['Index Name']);
    if (scans[0]?.['Index Name'] === 'order_view_customer') expect(scans[0]['Index Cond']).toMatch(/customer_id/);
  });

  it('the newest orders of all: the time index, no sequential scan', async () => {
    const plan = await planOf(db, {});
    expect(plan.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(plan.map((n) => n['Index Name']).filter(Boolean)).toEqual(['order_view_created']);
  });

  it('the pages of a customer hold each of their orders once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listOrders(db, { customerId: 'cust-7', limit: 20, ...(cursor ? { cursor } : {}) });
      seen.push(...page.orders.map((o) => o.orderId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const expected = Array.from({ length: 50 }, (_, k) => `o-${10000 - 193 - k * 200}`);
    expect(seen).toEqual(expected);
  });
});
