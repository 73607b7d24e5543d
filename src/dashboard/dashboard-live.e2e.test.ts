import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { http } from '../shop/e2e-support.js';
import { startShop, type RunningShop } from '../shop/index.js';
import type { Db } from '../store/index.js';
import { dashboardPlugin } from './index.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard-live.e2e: SKIPPED — ${CHROMIUM} is missing (apt-get install -y chromium)`);
const shot = (name: string) => new URL(`../../.scratch/${name}.png`, import.meta.url).pathname;

describe.skipIf(!haveChromium)('the dashboard’s live view in Chromium: pushed updates, charts, inventory, every service’s dead letters, time travel, actions', () => {
  let shop: RunningShop;
  let db: Db;
  let base: string;
  let token: string;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];

  const placeOrder = async () => {
    const r = await http<{ orderId: string }>(base, token, '/orders', { method: 'POST', body: { customerId: 'dora', items: [{ sku: 'TEA-GREEN', quantity: 1 }] } });
    expect(r.status).toBe(202);
    return r.body.orderId;
  };
  const stateOf = async (id: string) => (await db.query<{ state: string }>('SELECT state FROM ordo_saga_instances WHERE id = $1', [id])).rows[0]?.state;

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'pglite' },
      transport: { kind: 'inprocess' },
      port: 0,
      log: silentLogger(),
      reconcileIntervalMs: false,
      simulation: { seed: 'dashboard-live', declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0, refundFailureRate: 0, deliveryDelayMs: 100, latencyMs: 0 },
      plugins: [dashboardPlugin({ sampleMs: 400, stateMs: 250 })],
    });
    base = shop.url ?? '';
    token = shop.tokens.adminToken;
    db = shop.dbs.orders as Db;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 1700 } });
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  it('pushes new counts and chart points without polling, shows stock and the services’ dead letters, steps through an order’s history, and acts', async () => {
    const first = await placeOrder();
    await expect.poll(() => stateOf(first), { timeout: 30_000 }).toBe('DELIVERED');

    await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
    await expect.poll(() => page.locator('#conn').textContent()).toBe('connected');
    await expect.poll(() => page.locator('#stat-total').textContent()).toBe('1');

    // A pushed update: an order placed behind the page's back shows up, with no request from the page.
    const before = requests.length;
    const second = await placeOrder();
    await expect.poll(() => page.locator('#stat-total').textContent(), { timeout: 10_000 }).toBe('2');
    await expect.poll(() => page.locator('[data-count="DELIVERED"]').textContent(), { timeout: 30_000 }).toBe('2');
    expect(requests.slice(before)).toEqual([]);
    // Nothing is polled: the live view comes from the one stream.
    expect(requests.filter((p) => p === '/admin/overview' || p === '/admin/alerts' || p === '/admin/stuck')).toEqual([]);
    expect(requests.filter((p) => p === '/admin/stream')).toHaveLength(1);

    // Charts: points the server kept; both orders were started within the last minute.
    await expect.poll(async () => Number(await page.locator('#charts').getAttribute('data-samples')), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(async () => Number(await page.locator('[data-chart="throughput"] svg').getAttribute('data-points'))).toBeGreaterThan(4);
    await expect.poll(() => page.locator('[data-chart="throughput"] polyline[data-series="started"]').count()).toBe(1);
    await expect.poll(() => page.locator('[data-chart="throughput"] .chart-legend').textContent()).toContain('started 2');
    await expect.poll(async () => Number(await page.locator('[data-chart="latency"] svg').getAttribute('data-points'))).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-chart="outbox"] polyline').count()).toBe(4);

    // Inventory per SKU, as the inventory service has it.
    const stock = (await http<{ available: number; reserved: number; shipped: number }>(base, token, '/inventory/TEA-GREEN')).body;
    expect(stock.shipped).toBe(2);
    await expect.poll(() => page.locator('#inventory tr[data-sku="TEA-GREEN"] td').allTextContents()).toEqual(['TEA-GREEN', String(stock.available), String(stock.reserved), '2', '']);

    // A participant's dead letter (inventory cannot parse this command) is on the page too.
    await shop.transport.publish([{ id: `bad-${randomUUID()}`, topic: 'inventory-commands', key: 'nobody', type: 'ReserveInventory', payload: { orderId: 'nobody' }, headers: {} }]);
    await expect.poll(() => page.locator('[data-service-dead-letter^="inventory:"]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-service-dead-letter^="inventory:"] .why').textContent()).toContain('invalid ReserveInventory');
    // Replay it from the dashboard: the inventory service reads it again (still invalid), and the letter says so.
    await page.click('[data-service-dead-letter^="inventory:"] button[data-action="replay-service"]');
    await expect.poll(() => page.locator('#banner').textContent()).toMatch(/^replay inventory dead letter \d+: /);
    await expect.poll(() => page.locator('[data-service-dead-letter^="inventory:"] [data-replayed]').first().getAttribute('data-replayed'), { timeout: 10_000 }).toBe('dead-lettered');
    await expect.poll(() => page.locator('#stat-dead').textContent()).toBe('1');
    await page.screenshot({ path: shot('dashboard-live'), fullPage: true });

    // Time travel through the second order.
    await page.fill('#search-id', second);
    await page.click('#search button[type=submit]');
    await page.click('[data-action="time-travel"]');
    await expect.poll(() => page.locator('#tt-pos').textContent()).toMatch(/^step 1 \/ \d+$/);
    const steps = Number((await page.locator('#tt-pos').textContent())?.split('/ ')[1]);
    const history = (await http<{ steps: { service: string; orderState: string; participants: Record<string, string> }[] }>(base, token, `/admin/orders/${second}/history`)).body.steps;
    expect(history).toHaveLength(steps);
    const current = () => page.locator('#diagram .state.current').getAttribute('data-state');
    expect(await current()).toBe('INITIATED');
    expect(await page.locator('#tt-order-state').textContent()).toBe('INITIATED');
    // Forward to the first report of the inventory service: the diagram and the participants follow.
    const reserved = history.findIndex((s) => s.service === 'inventory');
    expect(reserved).toBeGreaterThan(0);
    for (let i = 0; i < reserved; i++) await page.click('[data-tt="forward"]');
    await expect.poll(() => page.locator('#tt-pos').textContent()).toBe(`step ${reserved + 1} / ${steps}`);
    expect(await page.locator('#time-travel [data-participant="inventory"] td').textContent()).toBe('InventoryReserved');
    expect(await page.locator('#time-travel [data-participant="payment"] td').textContent()).toBe('none');
    expect(await current()).toBe(history[reserved]?.orderState);
    await page.screenshot({ path: shot('dashboard-time-travel'), fullPage: false });
    // Back one step: inventory has not answered yet.
    await page.click('[data-tt="back"]');
    await expect.poll(() => page.locator('#time-travel [data-participant="inventory"] td').textContent()).toBe('none');
    expect(await current()).toBe(history[reserved - 1]?.orderState);
    await page.click('[data-tt="last"]');
    await expect.poll(current).toBe('DELIVERED');
    expect(await page.locator('#time-travel [data-participant="shipping"] td').textContent()).toBe('DeliveryConfirmed');

    // An action: reconcile now runs a round through POST /admin/reconcile.
    await page.click('#reconcile-now');
    await expect.poll(() => page.locator('#banner').textContent()).toMatch(/^reconcile now: /);
    expect(await page.locator('#banner').getAttribute('class')).toContain('ok');
    expect(requests).toContain('/admin/reconcile');
  });
});
