import { describe, expect, it } from 'vitest';
import { TRANSITION } from '../eventsourcing/index.js';
import type { Db, StoredMessage } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { seqTuplesReadBy } from '../testing/table-reads.js';
import { orderMachine } from './order-machine.js';
import { ORDER_VIEW_TABLE, orderViewProjection } from './order-view.js';

/*
 * The order_view projector applies a batch of transitions to the orders they move: by index,
 * however many orders the view holds. Its update once joined the batch's record set to the
 * whole table, and the planner (not knowing the set's size) read all of it at every batch:
 * about two sequential scans of order_view per order placed, up to tens of thousands of rows.
 */

const HELD = 20_000;

const transition = (orderId: string, version: number, to: string): StoredMessage => ({
  position: BigInt(version),
  txId: 1n,
  stream: `order-${orderId}`,
  streamVersion: version,
  id: `${orderId}/${version}`,
  type: TRANSITION,
  data: { trigger: { type: 'PaymentApproved' }, from: 'PAYMENT_PROCESSING', to, changes: { paymentId: `p-${orderId}` } },
  metadata: { machine: orderMachine.id, key: orderId, kind: 'timeline' },
  createdAt: new Date(),
});

describe.each(bothEngines('shop_view_scans'))('the order_view projection on %s', (_name, open) => {
  let db: Db;
  databaseForSuite(
    open,
    async (d) => {
      await orderViewProjection.setup(d, ORDER_VIEW_TABLE);
      await d.query(
        `INSERT INTO order_view (order_id, stream, customer_id, status, total, items, failure_reason, version, created_at, updated_at)
         SELECT 'o-' || i, 'order-o-' || i, 'cust-' || (i % 200), 'PAYMENT_PROCESSING', 100, '[]', NULL, 3, now(), now() FROM generate_series(1, ${HELD}) AS i`,
      );
      await d.query('ANALYZE order_view');
    },
    (d) => (db = d),
  );

  it(`moves two orders without reading the other ${HELD}`, async () => {
    const batch = [transition('o-7', 4, 'PREPARING_SHIPMENT'), transition('o-19999', 4, 'PREPARING_SHIPMENT'), transition('o-7', 5, 'SHIPPED')];
    const { reads } = await db.transaction((tx) => seqTuplesReadBy(tx, () => orderViewProjection.handle(batch, { q: tx, table: ORDER_VIEW_TABLE })));
    const rows = await db.query<{ order_id: string; status: string; version: number }>("SELECT order_id, status, version FROM order_view WHERE order_id IN ('o-7', 'o-19999', 'o-8') ORDER BY order_id");
    expect(rows.rows).toEqual([
      { order_id: 'o-19999', status: 'PREPARING_SHIPMENT', version: 4 },
      { order_id: 'o-7', status: 'SHIPPED', version: 5 },
      { order_id: 'o-8', status: 'PAYMENT_PROCESSING', version: 3 },
    ]);
    expect(reads.get('order_view') ?? 0).toBeLessThan(100);
  });
});
