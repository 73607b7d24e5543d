import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { dropPostgresDatabase } from '../store/index.js';
import { TEST_POSTGRES_ADMIN_URL } from '../testing/index.js';
import { topics } from './contracts.js';
import { http, metricSamples, placeOrders, promtoolCheckMetrics } from './e2e-support.js';
import { startShop, type RunningShop } from './shop.js';
import { chance } from './simulation.js';

const samples = metricSamples;
const SIMULATION = { seed: 'metrics', declineRate: 0.25, errorRate: 0.2, neverAnswersRate: 0, shipmentFailureRate: 0.25, refundFailureRate: 1, deliveryDelayMs: 50 };
const total = (body: string, name: string) => [...samples(body, name).values()].reduce((a, b) => a + b, 0);

// The whole shop in one process on the PostgreSQL server + in-process transport, with a
// world bad enough to exercise every metric: declines, failed shipments, refused refunds
// (COMPENSATION_FAILED with an alert), provider errors, and poison messages.
describe('metrics after an order flow', () => {
  const prefix = `ordo_t_mflow_${randomBytes(3).toString('hex')}`;
  let shop: RunningShop;
  let base: string;
  const token = 'metrics-flow-admin';

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'postgres', url: TEST_POSTGRES_ADMIN_URL, databasePrefix: prefix },
      transport: { kind: 'inprocess' },
      port: 0,
      adminToken: token,
      reconcileIntervalMs: false,
      simulation: SIMULATION,
      delays: { compensationTimeout: '3s' },
      log: silentLogger(),
    });
    base = shop.url ?? '';
  }, 60_000);
  afterAll(async () => {
    await shop?.stop();
    for (const s of ['orders', 'inventory', 'payment', 'shipping']) await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${prefix}_${s}`);
  });

  it('counts what the flow did in every metric of metrics.ts, in a format promtool accepts', async () => {
    const inventory = await http<{ sku: string }[] | { items: { sku: string }[] }>(base, token, '/inventory');
    const list = Array.isArray(inventory.body) ? inventory.body : inventory.body.items;
    const skus = list.slice(0, 4).map((i) => i.sku);
    const ids = await placeOrders(base, token, 24, skus, 6);
    // Which orders end COMPENSATION_FAILED is drawn per order id (simulation.ts), and the ids are new
    // each run: 24 orders had none in ~0.7 % of runs (seen once in CI). Orders are added until one
    // will: captured at its first attempt, its shipment failing, its refund refused (rate 1).
    const willFailCompensation = (id: string) =>
      !chance(SIMULATION.errorRate, SIMULATION.seed, 'error', id, 1) && !chance(SIMULATION.declineRate, SIMULATION.seed, 'decline', id) && chance(SIMULATION.shipmentFailureRate, SIMULATION.seed, 'ship-fails', id);
    for (let extra = 0; !ids.some(willFailCompensation); extra++) {
      if (extra >= 50) throw new Error(`none of ${ids.length} orders drew a failed compensation`);
      ids.push(...(await placeOrders(base, token, 1, skus, 1)));
    }
    // Poison: a command inventory cannot parse; and a reply for an order that does not exist (yet), which the engine parks.
    await shop.transport.publish([
      { id: `bad-${randomBytes(4).toString('hex')}`, topic: topics.commands('inventory'), key: 'nobody', type: 'ReserveInventory', payload: { orderId: 'nobody' }, headers: {} },
      { id: `orphan-${randomBytes(4).toString('hex')}`, topic: topics.events('inventory'), key: 'nobody', type: 'InventoryReserved', payload: { orderId: 'nobody', reservationId: 'r' }, headers: {} },
    ]);
    const orders = shop.dbs.orders;
    if (!orders) throw new Error('no orders database');
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await orders.query<{ active: number; n: number }>(`SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*)::int AS n FROM ordo_saga_instances`);
      if (r.rows[0]?.n === ids.length && r.rows[0]?.active === 0) break;
      if (Date.now() > deadline) throw new Error(`orders still active: ${JSON.stringify(r.rows[0])}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    const compensationFailed = (await orders.query<{ id: string }>(`SELECT id FROM ordo_saga_instances WHERE state = 'COMPENSATION_FAILED'`)).rows.map((r) => r.id);
    expect(compensationFailed).toEqual(expect.arrayContaining(ids.filter(willFailCompensation)));
    await http(base, token, '/admin/reconcile', { method: 'POST', body: {} });

    let body = '';
    for (let i = 0; i < 100; i++) {
      body = await (await fetch(`${base}/metrics`)).text();
      if (total(body, 'ordo_dead_letters_total') >= 1 && total(body, 'ordo_outbox_lag_messages') === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }

    const check = await promtoolCheckMetrics(body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);

    const states = samples(body, 'ordo_sagas');
    expect(total(body, 'ordo_sagas')).toBe(ids.length);
    expect(states.get('{machine="order",state="DELIVERED"}')).toBeGreaterThan(0);
    expect(states.get('{machine="order",state="COMPENSATION_FAILED"}')).toBeGreaterThan(0);
    expect(total(body, 'ordo_sagas_started_total')).toBe(ids.length);
    expect(total(body, 'ordo_transitions_total')).toBeGreaterThan(ids.length * 3);
    expect(samples(body, 'ordo_transitions_total').get('{machine="order",from="SHIPPED",to="DELIVERED",event="DeliveryConfirmed"}')).toBe(states.get('{machine="order",state="DELIVERED"}'));
    expect(total(body, 'ordo_saga_duration_seconds_count')).toBe(ids.length - (states.get('{machine="order",state="COMPENSATION_FAILED"}') ?? 0));
    expect(samples(body, 'ordo_saga_duration_seconds_sum').get('{machine="order",outcome="DELIVERED"}')).toBeGreaterThan(0);
    for (const topic of ['inventory-commands', 'payment-commands', 'shipping-commands', 'inventory-events', 'payment-events', 'shipping-events']) {
      expect(samples(body, 'ordo_messages_published_total').get(`{transport="inprocess",topic="${topic}"}`), topic).toBeGreaterThan(0);
    }
    const handled = samples(body, 'ordo_messages_handled_total');
    for (const service of ['orders', 'inventory', 'payment', 'shipping']) expect([...handled.keys()].some((k) => k.includes(`service="${service}"`)), service).toBe(true);
    // The provider's errors are drawn per order id and attempt (simulation.ts), and the ids are new each run:
    // every order that reached the provider and drew an error on its first attempt failed at least once.
    const payment = shop.dbs.payment;
    if (!payment) throw new Error('no payment database');
    const reached = (await payment.query<{ k: string }>('SELECT idempotency_key AS k FROM provider_ledger')).rows.map((r) => r.k);
    const drewError = reached.filter((k) => chance(SIMULATION.errorRate, SIMULATION.seed, 'error', k, 1)).length;
    expect(reached.length).toBeGreaterThan(0);
    expect(handled.get('{service="payment",type="ProcessPayment",outcome="failed"}') ?? 0).toBeGreaterThanOrEqual(drewError);
    if (drewError === 0) expect(handled.get('{service="payment",type="ProcessPayment",outcome="failed"}')).toBeUndefined();
    expect(samples(body, 'ordo_dead_letters_total').get('{service="inventory",reason="invalid-payload"}')).toBe(1);
    expect(handled.get('{service="orders",type="InventoryReserved",outcome="parked"}')).toBe(1);
    expect(samples(body, 'ordo_dead_letters_waiting').get('{service="inventory"}')).toBe(1);
    // the orphan reply waits, parked, for an order that never comes
    expect(samples(body, 'ordo_parked_messages').get('{service="orders"}')).toBe(1);
    expect(samples(body, 'ordo_alerts_total').get('{kind="saga-parked"}')).toBe(states.get('{machine="order",state="COMPENSATION_FAILED"}'));
    expect(samples(body, 'ordo_broker_up').get('{transport="inprocess"}')).toBe(1);
    for (const service of ['orders', 'inventory', 'payment', 'shipping']) expect(samples(body, 'ordo_outbox_lag_messages').get(`{service="${service}"}`), service).toBe(0);
    expect(samples(body, 'ordo_sagas_stuck').get('{machine="order"}')).toBe(0);
    expect(samples(body, 'ordo_http_requests_total').get('{method="POST",route="/orders",status="202"}')).toBe(ids.length);
    expect(body).toMatch(/^# TYPE ordo_reconciliations_total counter$/m);
  });
});
