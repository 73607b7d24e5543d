import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, type Db } from '../../store/index.js';
import { freshPostgres, type FreshDatabase } from '../../testing/fresh-database.js';
import { customPlan, genericPlan } from '../../testing/query-plan.js';
import { inventoryMigrations } from './inventory-service.js';
import { STOCK_TOUCHED_WHERE, stockTouchedBy } from './stock-feed.js';

const SQL = `SELECT * FROM stock WHERE ${STOCK_TOUCHED_WHERE} ORDER BY sku`;

/**
 * After every message it handles the inventory reads the stock rows the message touched (the
 * stock feed): at 20,000 SKUs that read goes through the primary key, with the plan a
 * prepared statement gets (generic) as with the one planned for its values.
 */
describe('stock feed read plan (PostgreSQL server, 20,000 SKUs)', () => {
  let fresh: FreshDatabase;
  let db: Db;
  beforeAll(async () => {
    fresh = await freshPostgres('stock_plan');
    db = fresh.db;
    await migrate(db, inventoryMigrations, 'service:inventory');
    await db.query(`INSERT INTO stock (sku, name, unit_price, initial, available) SELECT 'SKU-' || i, 'item ' || i, 100, 10, 10 FROM generate_series(1, 20000) AS i`);
    await db.query(`INSERT INTO reservations (order_id, status, items) SELECT 'o-' || i, 'reserved', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || i, 'qty', 1), jsonb_build_object('sku', 'SKU-' || (i + 1), 'qty', 2)) FROM generate_series(1, 20000) AS i`);
    await db.query('ANALYZE stock');
    await db.query('ANALYZE reservations');
  });
  afterAll(() => fresh?.close());

  it('finds the rows a message names and the rows its order holds, each once, in SKU order', async () => {
    const rows = await db.transaction((tx) => stockTouchedBy(tx, { orderId: 'o-7', items: [{ sku: 'SKU-8', qty: 1 }, { sku: 'SKU-3', qty: 1 }] }));
    expect(rows.map((r) => r.sku)).toEqual(['SKU-3', 'SKU-7', 'SKU-8']);
    const bySku = await db.transaction((tx) => stockTouchedBy(tx, { sku: 'SKU-19' }));
    expect(bySku.map((r) => r.sku)).toEqual(['SKU-19']);
    const unknownOrder = await db.transaction((tx) => stockTouchedBy(tx, { orderId: 'o-none' }));
    expect(unknownOrder).toEqual([]);
  });

  it('reads stock through its primary key, planned for the values and generic alike', async () => {
    const custom = await customPlan(db, SQL, [['SKU-3'], 'o-7']);
    const generic = await genericPlan(db, SQL, ['text[]', 'text'], ["'{SKU-3}'", "'o-7'"]);
    for (const plan of [custom, generic]) {
      expect(plan.filter((n) => n['Relation Name'] === 'stock').map((n) => n['Node Type'])).toEqual(['Index Scan']);
      expect(plan.map((n) => n['Index Name']).filter(Boolean)).toContain('stock_pkey');
    }
  });
});
