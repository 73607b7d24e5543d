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

  it('answers /health with the transport status, and 503 once the broker is gone', async () => {
    const up = await fetch(`${base}/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ ok: true, services: ['orders'], transport: { kind: 'inprocess', connected: true }, databases: { orders: 'ok' } });

    await shop.transport.close();
    const down = await fetch(`${base}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, transport: { kind: 'inprocess', connected: false } });
  });
});
