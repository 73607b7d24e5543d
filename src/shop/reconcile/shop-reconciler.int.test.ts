import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciler, RoundReport } from '../../runtime/index.js';
import { appendToStream } from '../../store/index.js';
import { freshPostgres, pgliteFactory, type FreshDatabase } from '../../testing/index.js';
import { topics } from '../contracts.js';
import { createTokenService } from '../gateway/auth.js';
import type { ShopBackend } from '../gateway/backend.js';
import { buildGateway } from '../gateway/gateway.js';
import { memoryAuditTrail, memoryTokenRevocations } from '../gateway/memory-security.js';
import type { WiringMode } from '../services/service-definitions.js';
import { UNWANTED_REPLIES_CONSUMER } from './correction-messages.js';
import { INTERRUPTED_CREATION_REASON } from './initiated-check.js';
import { pgliteShopDatabases, SKU, startReconcileShop, stateOf, untilState, waitFor, type ReconcileShop } from './reconcile-fixture.js';
import { createShopReconciler } from './shop-reconciler.js';

// Each discrepancy is made for real on the four services' own databases, one round
// corrects it exactly once through the services' normal messages, the next round finds
// nothing, and the correction is in ordo_reconciliations.
const pglite = pgliteShopDatabases(pgliteFactory);
const check = (r: RoundReport, name: string) => r.checks.find((c) => c.check === name);
afterAll(async () => (await pglite).close());

const setups: [string, WiringMode, () => Promise<FreshDatabase>][] = [
  ['pglite', 'orchestration', async () => (await pglite).fresh()],
  ['postgres', 'orchestration', () => freshPostgres('reconcile')],
  ['postgres', 'choreography', () => freshPostgres('reconcile')],
];

describe.each(setups)('shop reconciler on %s (%s)', (_engine, mode, open) => {
  let shop: ReconcileShop;
  let reconciler: Reconciler;

  beforeAll(async () => {
    shop = await startReconcileShop(mode, open);
    reconciler = createShopReconciler({ orders: shop.orders, views: shop.dbs, mode, intervalMs: false, graceMs: 0 });
    await reconciler.start();
  });
  afterAll(async () => {
    await reconciler?.stop();
    await shop?.stop();
  });

  const id = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}`;
  const row = async <R extends object>(db: 'inventory' | 'payment' | 'shipping', sql: string, orderId: string) => (await shop.dbs[db].query<R>(sql, [orderId])).rows[0];
  const reservation = (orderId: string) => row<{ status: string }>('inventory', 'SELECT status FROM reservations WHERE order_id = $1', orderId);
  const charge = (orderId: string) => row<{ status: string }>('payment', 'SELECT status FROM charges WHERE order_id = $1', orderId);
  const ledger = (orderId: string) => row<{ status: string; captures: number; refunds: number }>('payment', 'SELECT status, captures, refunds FROM provider_ledger WHERE idempotency_key = $1', orderId);
  const stock = async () => (await shop.dbs.inventory.query<{ available: number; reserved: number; shipped: number }>('SELECT available, reserved, shipped FROM stock WHERE sku = $1', [SKU])).rows[0];
  const deadLetters = async (orderId: string) => (await shop.dbs.orders.query(`SELECT 1 FROM ordo_dead_letters WHERE saga_id = $1`, [orderId])).rows.length;
  const settled = async () => {
    const r = await reconciler.runOnce();
    expect(r.found, JSON.stringify(r.checks)).toBe(0);
  };
  const unwantedReplies = async () => Number((await shop.dbs.orders.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_inbox WHERE consumer = $1`, [UNWANTED_REPLIES_CONSUMER])).rows[0]?.n);
  const matching = (orderId: string, ...types: string[]) => (m: { key: string; type: string }) => m.key === orderId && types.includes(m.type);

  it('an order left in INITIATED without an idempotency key is cancelled, once', async () => {
    const o = id('init');
    await shop.place(o, { onlyStartSaga: true });
    const r = await reconciler.runOnce();
    expect(check(r, 'stuck-initiated')).toMatchObject({ found: 1, corrected: 1, failed: 0 });
    expect(await stateOf(shop, o)).toBe('CANCELED');
    const saga = await shop.orders.engine.getSaga(o);
    expect((saga?.snapshot.context as { failureReason?: string }).failureReason).toBe(`canceled: ${INTERRUPTED_CREATION_REASON}`);
    await settled();
    const records = await reconciler.list({ limit: 10, subject: o });
    expect(records).toMatchObject([{ check: 'stuck-initiated', outcome: 'corrected', attempt: 1, action: 'cancel: deliver CancelRequested', found: { state: 'INITIATED', idempotencyKey: false } }]);
  });

  it('an order left in INITIATED with an idempotency key is continued to the end, once', async () => {
    const o = id('init-key');
    await shop.place(o, { onlyStartSaga: true, idempotencyKey: `key-${o}` });
    const r = await reconciler.runOnce();
    expect(check(r, 'stuck-initiated')).toMatchObject({ found: 1, corrected: 1 });
    await untilState(shop, o, 'SHIPPED');
    // The inventory hears of the shipment on its own: SHIPPED here does not mean it has yet.
    await waitFor('the reservation to be shipped', async () => (await reservation(o))?.status === 'shipped');
    expect(await ledger(o)).toMatchObject({ status: 'captured', captures: 1 });
    await settled();
    expect(await reconciler.list({ limit: 10, subject: o })).toMatchObject([{ action: 'continue: deliver OrderCreated', outcome: 'corrected' }]);
  });

  it('a CANCELED order whose reservation is held again (inventory restored from a backup) gets it released, once', async () => {
    const o = id('held');
    // Payment never hears of it, so the order waits in PAYMENT_PROCESSING holding stock.
    shop.transport.dropOnce(matching(o, 'ProcessPayment', 'PaymentRequested'));
    await shop.place(o);
    await waitFor('the reservation', async () => (await reservation(o))?.status === 'reserved');
    await untilState(shop, o, 'PAYMENT_PROCESSING');
    const before = await stock();
    await shop.orders.engine.deliver([{ id: `${o}:cancel`, key: o, type: 'CancelRequested', payload: { reason: 'changed my mind' } }]);
    shop.orders.notify();
    await untilState(shop, o, 'CANCELED');
    expect(await reservation(o)).toEqual({ status: 'released' });
    // The inventory database comes back from a backup taken before the release.
    await shop.dbs.inventory.transaction(async (tx) => {
      await tx.query(`UPDATE reservations SET status = 'reserved' WHERE order_id = $1`, [o]);
      await tx.query('UPDATE stock SET available = $2, reserved = $3 WHERE sku = $1', [SKU, before?.available, before?.reserved]);
    });

    const heldBack = await unwantedReplies();
    const r = await reconciler.runOnce();
    expect(check(r, 'canceled-holds-reservation')).toMatchObject({ found: 1, corrected: 1, failed: 0 });
    expect(r.corrected).toBe(1);
    await waitFor('the release', async () => (await reservation(o))?.status === 'released');
    // The inventory's answer (ReservationReleased) is held back from the finished saga.
    await waitFor('the answer to be held back', async () => (await unwantedReplies()) === heldBack + 1);
    const after = await stock();
    expect(after?.reserved).toBe((before?.reserved ?? 0) - 2);
    expect(after?.available).toBe((before?.available ?? 0) + 2);
    await settled();
    expect(await reconciler.list({ limit: 10, subject: o })).toMatchObject([
      { check: 'canceled-holds-reservation', outcome: 'corrected', attempt: 1, action: 'release the reservation', found: { order: 'CANCELED', reservation: 'reserved' } },
    ]);
    expect(await stateOf(shop, o)).toBe('CANCELED');
    expect(await deadLetters(o)).toBe(0);
  });

  it('a CANCELED order whose payment is captured again (payment restored from a backup) is refunded, once', async () => {
    const o = id('charged');
    // The shipping service never hears of it: the order waits, paid, in PREPARING_SHIPMENT.
    shop.transport.dropOnce(matching(o, 'PrepareShipment', 'ShipmentRequested'));
    await shop.place(o);
    await untilState(shop, o, 'PREPARING_SHIPMENT');
    expect(await charge(o)).toEqual({ status: 'approved' });
    await shop.orders.engine.deliver([{ id: `${o}:ship-failed`, key: o, type: 'ShipmentFailed', payload: { reason: 'warehouse flooded' } }]);
    shop.orders.notify();
    await untilState(shop, o, 'CANCELED');
    expect(await ledger(o)).toMatchObject({ status: 'refunded', captures: 1, refunds: 1 });
    // The payment database comes back from a backup taken before the refund.
    await shop.dbs.payment.transaction(async (tx) => {
      await tx.query(`UPDATE charges SET status = 'approved' WHERE order_id = $1`, [o]);
      await tx.query(`UPDATE provider_ledger SET status = 'captured', refunds = 0 WHERE idempotency_key = $1`, [o]);
    });

    const heldBack = await unwantedReplies();
    const r = await reconciler.runOnce();
    expect(check(r, 'canceled-charged-without-refund')).toMatchObject({ found: 1, corrected: 1, failed: 0 });
    expect(r.corrected).toBe(1);
    await waitFor('the refund', async () => (await charge(o))?.status === 'refunded');
    await waitFor('the answer to be held back', async () => (await unwantedReplies()) === heldBack + 1);
    await settled();
    expect(await ledger(o)).toMatchObject({ status: 'refunded', captures: 1, refunds: 1 });
    expect(await reconciler.list({ limit: 10, subject: o })).toMatchObject([{ check: 'canceled-charged-without-refund', outcome: 'corrected', found: { charge: 'approved' } }]);
    // The service's answer to a refund of a finished order does not reach the saga (it would be dead-lettered).
    expect(await stateOf(shop, o)).toBe('CANCELED');
    expect(await deadLetters(o)).toBe(0);
  });

  it('lost replies of the shipping service: the order is asked about again and moves on, once each', async () => {
    const o = id('lost-reply');
    shop.transport.dropOnce(matching(o, 'PackageShipped'));
    await shop.place(o);
    await waitFor('the shipment', async () => (await row<{ status: string }>('shipping', 'SELECT status FROM shipments WHERE order_id = $1', o))?.status === 'shipped');
    await waitFor('the lost reply', () => Promise.resolve(shop.transport.dropped.some(matching(o, 'PackageShipped'))));
    expect(await stateOf(shop, o)).toBe('PREPARING_SHIPMENT');
    const shippedBefore = (await stock())?.shipped ?? 0;

    const r = await reconciler.runOnce();
    expect(check(r, 'awaiting-reply')).toMatchObject({ found: 1, corrected: 1 });
    await untilState(shop, o, 'SHIPPED');
    await waitFor('stock to leave the warehouse', async () => (await reservation(o))?.status === 'shipped');
    expect((await stock())?.shipped).toBe(shippedBefore + 2);

    // The carrier confirms; the shipping service records it, but its answer is lost.
    shop.transport.dropOnce(matching(o, 'DeliveryConfirmed'));
    await shop.orders.db.transaction((tx) =>
      appendToStream(tx, `delivery-${o}`, 'any', [{ type: 'ConfirmDelivery', data: { orderId: o }, metadata: { topic: topics.commands('shipping'), key: o, kind: 'api-command' } }]),
    );
    shop.orders.notify();
    await waitFor('the delivery', async () => (await row<{ status: string }>('shipping', 'SELECT status FROM shipments WHERE order_id = $1', o))?.status === 'delivered');
    await waitFor('the lost confirmation', () => Promise.resolve(shop.transport.dropped.some(matching(o, 'DeliveryConfirmed'))));
    const r2 = await reconciler.runOnce();
    expect(check(r2, 'awaiting-reply')).toMatchObject({ found: 1, corrected: 1 });
    await untilState(shop, o, 'DELIVERED');
    await settled();

    const records = await reconciler.list({ limit: 10, subject: o });
    expect(records.map((x) => [x.check, x.outcome, (x.found as { state: string }).state])).toEqual([
      ['awaiting-reply', 'corrected', 'SHIPPED'],
      ['awaiting-reply', 'corrected', 'PREPARING_SHIPMENT'],
    ]);
    expect((await shop.dbs.shipping.query('SELECT 1 FROM shipments WHERE order_id = $1', [o])).rows).toHaveLength(1);
    expect(await deadLetters(o)).toBe(0);
  });

  it('a compensation the inventory did but whose answer was lost is asked again before its timeout parks the order', async () => {
    const o = id('lost-release');
    shop.transport.dropOnce(matching(o, 'ProcessPayment', 'PaymentRequested'));
    shop.transport.dropOnce(matching(o, 'ReservationReleased'));
    await shop.place(o);
    await untilState(shop, o, 'PAYMENT_PROCESSING');
    await shop.orders.engine.deliver([{ id: `${o}:cancel`, key: o, type: 'CancelRequested', payload: { reason: 'changed my mind' } }]);
    shop.orders.notify();
    await waitFor('the lost answer', () => Promise.resolve(shop.transport.dropped.some(matching(o, 'ReservationReleased'))));
    expect(await reservation(o)).toEqual({ status: 'released' });
    expect(await stateOf(shop, o)).toBe('REVERTING_RESERVATION');

    const r = await reconciler.runOnce();
    expect(check(r, 'awaiting-reply')).toMatchObject({ found: 1, corrected: 1 });
    expect(await reconciler.list({ limit: 1, subject: o })).toMatchObject([{ found: { state: 'REVERTING_RESERVATION', inventory: 'released', serviceAnswered: true, timer: 'pending' } }]);
    await untilState(shop, o, 'CANCELED');
    await settled();
    expect(await deadLetters(o)).toBe(0);
  });

  it('an order waiting with its timer pending is left to the timer', async () => {
    const o = id('timer');
    shop.transport.dropOnce(matching(o, 'ProcessPayment', 'PaymentRequested'));
    await shop.place(o);
    await untilState(shop, o, 'PAYMENT_PROCESSING');
    await settled();
  });
});

describe('GET /admin/reconciliations and POST /admin/reconcile', () => {
  let shop: ReconcileShop;
  let reconciler: Reconciler;
  let app: Awaited<ReturnType<typeof buildGateway>>;
  const tokens = createTokenService();
  const admin = { authorization: `Bearer ${tokens.adminToken}` };

  beforeAll(async () => {
    shop = await startReconcileShop('orchestration', async () => (await pglite).fresh());
    reconciler = createShopReconciler({ orders: shop.orders, views: shop.dbs, mode: 'orchestration', intervalMs: false, graceMs: 0 });
    await reconciler.start();
    // The customer API is not used here: only the routes under test reach a backend.
    app = await buildGateway({ backend: {} as ShopBackend, tokens, reconciler, revocations: memoryTokenRevocations(), audit: memoryAuditTrail() });
  });
  afterAll(async () => {
    await app?.close();
    await reconciler?.stop();
    await shop?.stop();
  });

  it('runs a round on request and lists what it did, for the admin token only', async () => {
    await shop.place('http-1', { onlyStartSaga: true });
    const customer = { authorization: `Bearer ${tokens.customerToken('alice')}` };
    expect((await app.inject({ method: 'POST', url: '/admin/reconcile', headers: customer })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/admin/reconciliations', headers: customer })).statusCode).toBe(403);

    const round = await app.inject({ method: 'POST', url: '/admin/reconcile', headers: admin });
    expect(round.statusCode).toBe(200);
    const report = round.json<RoundReport>();
    expect(report).toMatchObject({ found: 1, corrected: 1, failed: 0 });
    expect(check(report, 'stuck-initiated')).toMatchObject({ corrected: 1 });
    expect(await stateOf(shop, 'http-1')).toBe('CANCELED');

    const listed = await app.inject({ method: 'GET', url: '/admin/reconciliations?orderId=http-1&outcome=corrected', headers: admin });
    expect(listed.statusCode).toBe(200);
    const body = listed.json<{ reconciliations: { subject: string; check: string; action: string }[]; stats: { rounds: number; recorded: Record<string, number> } }>();
    expect(body.reconciliations).toMatchObject([{ subject: 'http-1', check: 'stuck-initiated', action: 'cancel: deliver CancelRequested' }]);
    expect(body.stats).toMatchObject({ rounds: 1, recorded: { corrected: 1, failed: 0, 'check-failed': 0 } });

    const bad = await app.inject({ method: 'GET', url: '/admin/reconciliations?outcome=maybe&limit=0', headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toMatch(/outcome/);
  });

  it('documents both routes as admin-only in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { security?: unknown }>> }>();
    expect(doc.paths['/admin/reconciliations']?.['get']?.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/admin/reconcile']?.['post']?.security).toEqual([{ admin: [] }]);
  });
});
