import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateStream, foldEvents, handleCommand, migrateEventsourcing, readTimeline, rebuildProjection } from '../eventsourcing/index.js';
import { migrateStore, readStream, type Db } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { orderDecider, orderStream, type OrderAggregateState, type OrderCommand, type OrderEvent } from './order-aggregate.js';
import { getOrderDetails, listOrders, orderViewProjection, type OrderView } from './order-view.js';

/** Property runs per engine: the server's round trips cost more. */
const runsOn = { pglite: 25, postgres: 20 };
const engines = bothEngines('es_view');

/** Every command shape the order accepts somewhere; which ones are valid now is the machine's call. */
function candidates(state: OrderAggregateState, orderId: string): { valid: OrderCommand[]; moving: OrderCommand[] } {
  const all: OrderCommand[] = [
    { type: 'CreateOrder', orderId, customerId: `c-${orderId.length % 3}`, items: [{ sku: 'A', quantity: 1 + (orderId.length % 5), unitPrice: 199 }] },
    { type: 'ReserveInventory' },
    { type: 'ConfirmInventoryReserved', reservationId: `r-${orderId}` },
    { type: 'RejectInventory', reason: 'none left' },
    { type: 'ConfirmPayment', paymentId: `p-${orderId}` },
    { type: 'RefusePayment', reason: 'declined' },
    { type: 'ShipOrder', trackingNumber: `t-${orderId}` },
    { type: 'FailShipment', reason: 'damaged' },
    { type: 'ConfirmDelivery' },
    { type: 'CancelOrder', reason: 'customer' },
    { type: 'ConfirmRefund' },
    { type: 'FailRefund', reason: 'bank' },
    { type: 'ConfirmRelease' },
    { type: 'FailRelease', reason: 'warehouse' },
    { type: 'RetryCompensation' },
    ...(state?.timers.map((timer): OrderCommand => ({ type: 'ExpireTimer', timer })) ?? []),
  ];
  const valid = all.filter((c) => {
    try {
      orderDecider.decide(c, state);
      return true;
    } catch {
      return false;
    }
  });
  // Commands that move the order on; accepted-and-ignored ones alone would keep runs shallow.
  const moving = valid.filter((c) => orderDecider.decide(c, state).length > 0);
  return { valid, moving };
}

async function snapshotOfView(db: Db): Promise<OrderView[]> {
  return (await listOrders(db, { limit: 500 })).orders;
}

describe.each(engines)('order view and aggregate on %s (property)', (engine, open) => {
  const runs = runsOn[engine];
  let db: Db;
  let run = 0;
  databaseForSuite(
    open,
    async (d) => {
      await migrateStore(d);
      await migrateEventsourcing(d);
      await orderViewProjection.setup(d, orderViewProjection.table);
    },
    (d) => (db = d),
  );

  it('for random valid command sequences: incremental view = rebuilt view, and state = fold of the events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(3), fc.nat(99)), { minLength: 8, maxLength: 48 }), async (choices) => {
        run += 1;
        const ids = [0, 1, 2, 3].map((k) => `run${run}-o${k}`);
        const states = new Map<string, OrderAggregateState>(ids.map((id) => [id, null]));
        for (const [which, pick] of choices) {
          const id = ids[which] ?? '';
          const { valid, moving } = candidates(states.get(id) ?? null, id);
          // The happy path comes first in the list: favour it so runs reach deep states.
          const command = pick < 50 ? moving[0] : pick < 90 ? moving[pick % Math.max(moving.length, 1)] : valid[pick % Math.max(valid.length, 1)];
          if (!command) continue; // a finished order with no timers: nothing is valid any more
          const r = await handleCommand(db, orderDecider, orderStream(id), command, { projections: [orderViewProjection] });
          states.set(id, r.state);
        }
        for (const id of ids) {
          const events = await readStream(db, orderStream(id));
          const folded = foldEvents(orderDecider, events as unknown as OrderEvent[]);
          expect(folded).toEqual(states.get(id));
          expect((await aggregateStream(db, orderDecider, orderStream(id))).state).toEqual(folded);
        }
        const incremental = await snapshotOfView(db);
        await rebuildProjection(db, orderViewProjection, { mode: 'inline', batchSize: 64 });
        expect(await snapshotOfView(db)).toEqual(incremental);
      }),
      { numRuns: runs },
    );
  });

  it('pages through orders created within one millisecond, each exactly once', async () => {
    // Microseconds a JS Date cannot hold: three rows at the same instant, others around it in the same millisecond.
    const rows: [string, string][] = [
      ['ms-a', '2026-03-01 10:00:00.123100+00'],
      ['ms-b', '2026-03-01 10:00:00.123456+00'],
      ['ms-c', '2026-03-01 10:00:00.123456+00'],
      ['ms-d', '2026-03-01 10:00:00.123456+00'],
      ['ms-e', '2026-03-01 10:00:00.123900+00'],
      ['ms-f', '2026-03-01 10:00:00.123000+00'],
    ];
    for (const [id, at] of rows) {
      await db.query(
        `INSERT INTO ${orderViewProjection.table} (order_id, stream, customer_id, status, total, items, failure_reason, version, created_at, updated_at)
         VALUES ($1, $2, 'same-millisecond', 'INITIATED', 1, '[]', NULL, 1, $3, $3)`,
        [id, orderStream(id), at],
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < rows.length; page++) {
      const r = await listOrders(db, { customerId: 'same-millisecond', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...r.orders.map((o) => o.orderId));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual(['ms-e', 'ms-d', 'ms-c', 'ms-b', 'ms-a', 'ms-f']); // newest first, then order id descending
  });

  it('the timeline lists every transition with its time, causation and correlation', async () => {
    const stream = orderStream('tl-1');
    await handleCommand(db, orderDecider, stream, { type: 'CreateOrder', orderId: 'tl-1', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 1 }] }, { metadata: { correlationId: 'req-1', causationId: 'http-1' } });
    await handleCommand(db, orderDecider, stream, { type: 'ReserveInventory' }, { metadata: { correlationId: 'req-1', causationId: 'msg-2' } });
    await handleCommand(db, orderDecider, stream, { type: 'CancelOrder', reason: 'x' }, { metadata: { correlationId: 'req-1', causationId: 'msg-3' } });
    const timeline = await readTimeline(db, stream);
    expect(timeline.map(({ version, type, trigger, from, to, causationId, correlationId, kind }) => ({ version, type, trigger, from, to, causationId, correlationId, kind }))).toEqual([
      { version: 1, type: 'ordo.transition', trigger: 'ordo.start', from: null, to: 'INITIATED', causationId: 'http-1', correlationId: 'req-1', kind: 'timeline' },
      { version: 2, type: 'ordo.transition', trigger: 'OrderCreated', from: 'INITIATED', to: 'INVENTORY_RESERVING', causationId: 'msg-2', correlationId: 'req-1', kind: 'timeline' },
      { version: 3, type: 'ordo.transition', trigger: 'CancelRequested', from: 'INVENTORY_RESERVING', to: 'REVERTING_RESERVATION', causationId: 'msg-3', correlationId: 'req-1', kind: 'timeline' },
    ]);
    expect(timeline.every((e) => e.at instanceof Date && !Number.isNaN(e.at.getTime()))).toBe(true);
    expect(await readTimeline(db, orderStream('nope'))).toEqual([]);
    const details = await getOrderDetails(db, 'tl-1');
    expect(details).toMatchObject({ orderId: 'tl-1', customerId: 'c', status: 'REVERTING_RESERVATION', total: 1, failureReason: 'canceled: x', version: 3 });
    expect(details?.timeline).toHaveLength(3);
    expect(await getOrderDetails(db, 'nope')).toBeUndefined();
  });
});
