import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { dropPostgresDatabase } from '../store/index.js';
import { TEST_POSTGRES_ADMIN_URL } from '../testing/index.js';
import { startShop, type RunningShop } from './shop.js';

// The orders part alone, as `ordo start --service orders --metrics-port N` runs it, on the
// PostgreSQL server (its production setup, and seconds faster to start than four PGlites) + in-process.
describe('the metrics listener of a process without the gateway', () => {
  const prefix = `ordo_t_metrics_${randomBytes(3).toString('hex')}`;
  let shop: RunningShop;
  let base: string;

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'postgres', url: TEST_POSTGRES_ADMIN_URL, databasePrefix: prefix },
      transport: { kind: 'inprocess' },
      services: ['orders'],
      reconcileIntervalMs: false,
      metricsListener: { port: 0 },
      log: silentLogger(),
    });
    base = shop.metricsUrl ?? '';
  }, 30_000);
  afterAll(async () => {
    await shop?.stop();
    for (const s of ['orders', 'inventory', 'payment', 'shipping']) await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${prefix}_${s}`);
  });

  it('serves the orders process registry as Prometheus text', async () => {
    expect(shop.url).toBeUndefined(); // no gateway in this process: the listener is the only way in
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await res.text();
    expect(body).toMatch(/^ordo_broker_up\{transport="inprocess"\} 1$/m);
    for (const name of ['ordo_transitions_total', 'ordo_sagas_started_total', 'ordo_outbox_lag_messages', 'ordo_reconciliations_total']) expect(body).toContain(`# TYPE ${name} `);
    expect(body).toMatch(/^process_cpu_seconds_total /m);
  });

  it('counts the sagas, their transitions, the events handled and the messages the relay published', async () => {
    const engine = shop.orders?.engine;
    if (!engine) throw new Error('no orders service');
    const ids = ['m-1', 'm-2', 'm-3'];
    for (const id of ids) {
      await engine.startSaga(id, 'order', { orderId: id, customerId: 'c', items: [{ sku: 'sku-1', quantity: 1, unitPrice: 250 }], total: 250 });
      await engine.deliver([{ id: `${id}:created`, key: id, type: 'OrderCreated', payload: {} }]);
    }
    const event = (id: string, type: string, payload: object) => ({ id: `${id}:${type}`, topic: 'inventory-events', key: id, type, payload: { orderId: id, ...payload }, headers: {} });
    // m-1 fails (a final state), m-2's compensation fails (an alert), and one reply names no saga (a dead letter).
    await engine.deliver([{ id: 'm-2:cancel', key: 'm-2', type: 'CancelRequested', payload: { reason: 'changed my mind' } }]);
    await shop.transport.publish([event('m-1', 'InventoryInsufficient', { reason: 'none left' }), event('m-2', 'ReleaseFailed', { reason: 'db down' }), event('nobody', 'InventoryReserved', { reservationId: 'r' })]);

    // Wait for what the flow does (each saga's final or parked state, the orphan reply parked, the relay caught up), not for a count.
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (let i = 0; i < 200; i++) {
        if (await ok()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    await until('m-1 CANCELED and m-2 COMPENSATION_FAILED', async () => (await engine.getSaga('m-1'))?.snapshot.state === 'CANCELED' && (await engine.getSaga('m-2'))?.snapshot.state === 'COMPENSATION_FAILED');
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    let body = '';
    await until('the orphan reply parked and the outbox forwarded', async () => {
      body = await scrape();
      return /^ordo_messages_handled_total\{service="orders",type="InventoryReserved",outcome="parked"\} 1$/m.test(body) && /^ordo_outbox_lag_messages\{service="orders"\} 0$/m.test(body);
    });
    const line = (name: string, labels: string) => new RegExp(`^${name}\\{${labels.replace(/[.]/g, '\\.')}\\} (\\S+)$`, 'm').exec(body)?.[1];

    expect(line('ordo_sagas_started_total', 'machine="order"')).toBe('3');
    expect(line('ordo_transitions_total', 'machine="order",from="INITIATED",to="INVENTORY_RESERVING",event="OrderCreated"')).toBe('3');
    expect(line('ordo_transitions_total', 'machine="order",from="INVENTORY_RESERVING",to="CANCELED",event="InventoryInsufficient"')).toBe('1');
    expect(line('ordo_transitions_total', 'machine="order",from="REVERTING_RESERVATION",to="COMPENSATION_FAILED",event="ReleaseFailed"')).toBe('1');
    expect(line('ordo_saga_duration_seconds_count', 'machine="order",outcome="CANCELED"')).toBe('1');
    expect(Number(line('ordo_saga_duration_seconds_sum', 'machine="order",outcome="CANCELED"'))).toBeGreaterThan(0);
    expect(line('ordo_alerts_total', 'kind="saga-parked"')).toBe('1');
    expect(line('ordo_messages_handled_total', 'service="orders",type="InventoryInsufficient",outcome="applied"')).toBe('1');
    // A reply for a saga that does not exist (yet) is parked, not dead-lettered.
    expect(line('ordo_messages_handled_total', 'service="orders",type="InventoryReserved",outcome="parked"')).toBe('1');
    expect(line('ordo_dead_letters_total', 'service="orders",reason="SAGA_NOT_FOUND"')).toBeUndefined();
    // Orchestration: each order's ReserveInventory, and m-2's ReleaseInventory when it was cancelled.
    expect(line('ordo_messages_published_total', 'transport="inprocess",topic="inventory-commands"')).toBe('4');
    expect(line('ordo_outbox_lag_messages', 'service="orders"')).toBe('0');
  });

  it('answers /health with the transport status, and 503 once the broker is gone', async () => {
    const up = await fetch(`${base}/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ ok: true, services: ['orders'], transport: { kind: 'inprocess', connected: true }, databases: { orders: 'ok' } });

    await shop.transport.close();
    const down = await fetch(`${base}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, transport: { kind: 'inprocess', connected: false } });
    // The in-process transport reports no status changes: the gauge is read at the scrape.
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^ordo_broker_up\{transport="inprocess"\} 0$/m);
  });
});
