import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { http } from '../shop/e2e-support.js';
import { orderMachine, startShop, type RunningShop } from '../shop/index.js';
import type { Db } from '../store/index.js';
import { dashboardPlugin } from './index.js';

// Debian's Chromium (`apt-get install -y chromium`); playwright-core brings no browser of its own.
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard.e2e: SKIPPED — ${CHROMIUM} is missing (install it with: apt-get update && apt-get install -y chromium)`);

const SCREENSHOT = new URL('../../.scratch/dashboard.png', import.meta.url).pathname;
/** States where an order waits for nothing in this shop (no carrier, refunds always refused). */
const RESTING = ['SHIPPED', 'COMPENSATION_FAILED', 'CANCELED', 'DELIVERED'];
const HAPPY_PATH = ['INITIATED', 'INVENTORY_RESERVING', 'INVENTORY_RESERVED', 'PAYMENT_PROCESSING', 'PAYMENT_APPROVED', 'PREPARING_SHIPMENT', 'SHIPPED'];

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!haveChromium)('the dashboard in Chromium', () => {
  let shop: RunningShop;
  let db: Db;
  let base: string;
  let token: string;
  let browser: Browser;
  let page: Page;
  const placed: string[] = [];

  const countsByState = async () => {
    const r = await db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ordo_saga_instances WHERE machine_id = 'order' GROUP BY state`);
    return new Map(r.rows.map((x) => [x.state, Number(x.n)]));
  };
  const stateOf = async (id: string) => (await db.query<{ state: string }>('SELECT state FROM ordo_saga_instances WHERE id = $1', [id])).rows[0]?.state;
  const settled = async () => {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_instances WHERE state <> ALL($1::text[])`, [RESTING]);
    return Number(r.rows[0]?.n) === 0;
  };
  const placeOrder = async (customerId: string) => {
    const r = await http<{ orderId: string }>(base, token, '/orders', { method: 'POST', body: { customerId, items: [{ sku: 'TEA-GREEN', quantity: 1 }] } });
    expect(r.status).toBe(202);
    placed.push(r.body.orderId);
    return r.body.orderId;
  };
  /** Starts an order saga directly, without its OrderCreated: it waits in INITIATED. */
  const startBareOrder = async (id: string) => {
    const started = await shop.orders?.engine.startSaga(id, 'order', { orderId: id, customerId: 'carol', items: [{ sku: 'TEA-GREEN', quantity: 1, unitPrice: 450 }], total: 450 });
    expect(started?.status).toBe('started');
  };

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'pglite' },
      transport: { kind: 'inprocess' },
      port: 0,
      log: silentLogger(),
      // Half the shipments fail after payment and every refund is refused, so some orders
      // park in COMPENSATION_FAILED with an alert; the carrier never comes, so the rest rest in SHIPPED.
      simulation: { seed: 'dashboard-e2e', declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0.5, refundFailureRate: 1, deliveryDelayMs: -1, latencyMs: 0 },
      plugins: [dashboardPlugin()],
    });
    base = shop.url ?? '';
    token = shop.tokens.adminToken;
    db = shop.dbs.orders as Db;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 1300 } });
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  it('shows the machine with live counts, finds orders, shows timelines and acts on stuck, parked and dead-lettered work', async () => {
    // Orders by two customers, until both outcomes exist (the split depends on the random order ids).
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6; i++) await placeOrder(i % 3 === 0 ? 'bob' : 'alice');
      await until('the orders to settle', settled);
      const c = await countsByState();
      if ((c.get('SHIPPED') ?? 0) > 0 && (c.get('COMPENSATION_FAILED') ?? 0) > 0) break;
    }
    const shipped = await until('a shipped order', async () => (await db.query<{ id: string }>(`SELECT id FROM ordo_saga_instances WHERE state = 'SHIPPED' ORDER BY created_at LIMIT 1`)).rows[0]?.id);
    const parked = await until('a parked order', async () => (await db.query<{ id: string }>(`SELECT id FROM ordo_saga_instances WHERE state = 'COMPENSATION_FAILED' ORDER BY created_at LIMIT 1`)).rows[0]?.id);

    // An order whose first reservation send fails transiently: the engine retries it.
    const slowStart = randomUUID();
    await startBareOrder(slowStart);
    await shop.orders?.engine.deliver([
      { id: `created-${slowStart}`, key: slowStart, type: 'OrderCreated', payload: {} },
      { id: `busy-${slowStart}`, key: slowStart, type: 'ordo.step.failed', payload: { step: 'reserveInventory', attempt: 1, retryable: true, reason: 'inventory busy' } },
    ]);
    await until('the retried order to settle', settled);

    // An event that arrives before its saga exists is dead-lettered; once the saga exists a replay applies it.
    const early = randomUUID();
    const [orphan] = (await shop.orders?.engine.deliver([{ id: `early-${early}`, key: early, type: 'OrderCreated', payload: {} }], { park: false })) ?? [];
    expect(orphan?.status).toBe('dead-lettered');
    await startBareOrder(early);
    // A malformed message (a number where the tracking number is a string) stays poison on replay.
    const [poison] = (await shop.orders?.engine.deliver([{ id: `poison-${shipped}`, key: shipped, type: 'PackageShipped', payload: { trackingNumber: 42 } }])) ?? [];
    expect(poison?.status).toBe('dead-lettered');
    // An order that never got going: stuck in INITIATED, with no timer to rescue it.
    const idle = randomUUID();
    await startBareOrder(idle);

    await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
    // The token leaves the address bar for sessionStorage.
    await expect.poll(() => page.evaluate('location.hash')).toBe('');
    await expect.poll(() => page.locator('#conn').textContent()).toBe('connected');

    // Every state of the machine is drawn, with the number of orders the database holds in it.
    for (const state of orderMachine.stateNames) await expect.poll(() => page.locator(`g.state[data-state="${state}"]`).count()).toBe(1);
    const expected = await countsByState();
    for (const state of orderMachine.stateNames) {
      await expect.poll(() => page.locator(`[data-count="${state}"]`).textContent(), { message: state, timeout: 10_000 }).toBe(String(expected.get(state) ?? 0));
    }
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    await expect.poll(() => page.locator('#stat-total').textContent()).toBe(String(total));
    await expect.poll(async () => Number(await page.locator('#stat-created').textContent())).toBeGreaterThan(0);
    // Orders in flight per machine version (all on v1 here; a live migration moves them on).
    await expect.poll(() => page.locator('#stat-versions').textContent()).toMatch(/^v1: \d+$/);
    // Failure and compensation states are drawn apart from the happy path, in their colours.
    expect(await page.locator('g.state.failure[data-state="COMPENSATION_FAILED"]').count()).toBe(1);
    expect(await page.locator('g.state.compensation[data-state="REFUNDING_PAYMENT"]').count()).toBe(1);
    expect(await page.locator('g.state.success[data-state="SHIPPED"]').count()).toBe(0);
    expect(await page.locator('path.edge').count()).toBeGreaterThan(12);

    // Search by customer, then by status.
    await page.fill('#search-customer', 'bob');
    await page.click('#search button[type=submit]');
    const bobs = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_instances WHERE snapshot->'context'->>'customerId' = 'bob'`)).rows[0]?.n;
    await expect.poll(() => page.locator('#orders tbody tr').count()).toBe(Number(bobs));
    await page.fill('#search-customer', '');
    await page.selectOption('#search-status', 'COMPENSATION_FAILED');
    await page.click('#search button[type=submit]');
    // Wait for the new list itself: the previous one (bob's) can have as many rows.
    await expect.poll(() => page.locator('#orders tbody tr .chip[data-status="COMPENSATION_FAILED"]').count()).toBe(expected.get('COMPENSATION_FAILED'));
    expect(await page.locator('#orders tbody tr').count()).toBe(expected.get('COMPENSATION_FAILED'));
    // Clicking a state in the diagram lists its orders.
    await page.click('g.state[data-state="SHIPPED"]');
    await expect.poll(() => page.locator('#orders tbody tr').count()).toBe(expected.get('SHIPPED'));

    // Search by id: the timeline shows every transition of the happy path, in order.
    await page.selectOption('#search-status', '');
    await page.fill('#search-id', shipped);
    await page.click('#search button[type=submit]');
    await expect.poll(() => page.locator('#order-title').textContent()).toBe(shipped);
    const tos = async () => Promise.all((await page.locator('#timeline tr[data-kind="transition"]').all()).map((row) => row.getAttribute('data-to')));
    await expect.poll(tos).toEqual(HAPPY_PATH);
    expect(await page.locator('#timeline tr[data-kind="command"]').count()).toBeGreaterThanOrEqual(3);
    // The retried order's timeline shows the failed send.
    await page.fill('#search-id', slowStart);
    await page.click('#search button[type=submit]');
    await expect.poll(() => page.locator('#order-title').textContent()).toBe(slowStart);
    await expect.poll(() => page.locator('#timeline tr[data-kind="retry"]').first().textContent()).toContain('reserveInventory attempt 1 failed: inventory busy');
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-timeline.png'), fullPage: true });

    // The parked order: its alert, retried from the dashboard. The operator's retry resolves the
    // alert and sends the compensation again (which this provider refuses again, so it re-parks).
    const alert = (await db.query<{ id: string }>(`SELECT id::text AS id FROM ordo_saga_alerts WHERE saga_id = $1 AND resolved_at IS NULL`, [parked])).rows[0]?.id ?? '';
    expect(alert).not.toBe('');
    const alertItem = page.locator(`[data-alert="${alert}"]`);
    await expect.poll(() => alertItem.count()).toBe(1);
    await alertItem.locator('button[data-action="retry-compensation"]').click();
    await until('the alert to be resolved', async () => (await db.query<{ r: Date | null }>('SELECT resolved_at AS r FROM ordo_saga_alerts WHERE id = $1', [alert])).rows[0]?.r);
    await expect.poll(() => alertItem.count()).toBe(0);
    const retried = await http<{ timeline: { type: string; data: { event?: string } }[] }>(base, token, `/orders/${parked}`);
    expect(retried.body.timeline.some((e) => e.type === 'transition' && e.data.event === 'CompensationRetried')).toBe(true);

    // The dead letters: the early one replays and its order gets going; the poison one fails again.
    const deadId = async (messageId: string) => (await db.query<{ id: string }>('SELECT id::text AS id FROM ordo_dead_letters WHERE message_id = $1', [messageId])).rows[0]?.id ?? '';
    const earlyLetter = await deadId(`early-${early}`);
    const poisonLetter = await deadId(`poison-${shipped}`);
    await expect.poll(() => page.locator(`[data-dead-letter="${earlyLetter}"]`).count()).toBe(1);
    await expect.poll(() => page.locator(`[data-dead-letter="${poisonLetter}"]`).count()).toBe(1);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.locator(`[data-dead-letter="${earlyLetter}"] button[data-action="replay"]`).click();
    await until('the replayed order to leave INITIATED', async () => (await stateOf(early)) !== 'INITIATED');
    await expect.poll(() => page.locator(`[data-dead-letter="${earlyLetter}"]`).count()).toBe(0);
    await page.locator(`[data-dead-letter="${poisonLetter}"] button[data-action="replay"]`).click();
    await expect.poll(() => page.locator('#banner').textContent()).toContain('REPLAY_FAILED');
    await expect.poll(() => page.locator(`[data-dead-letter="${poisonLetter}"]`).textContent()).toContain('2 attempts');

    // The idle order shows as stuck once the threshold is low enough, and is cancelled from there.
    await page.fill('#stuck-after', '1');
    await page.dispatchEvent('#stuck-after', 'change');
    const stuckItem = page.locator(`[data-stuck="${idle}"]`);
    await expect.poll(() => stuckItem.count(), { timeout: 10_000 }).toBe(1);
    await stuckItem.locator('button[data-action="compensate"]').click();
    await until('the stuck order to be cancelled', async () => (await stateOf(idle)) === 'CANCELED');
    await expect.poll(() => stuckItem.count()).toBe(0);

    // After all that, the drawn counts still match the database.
    await until('the orders to settle', settled);
    const after = await countsByState();
    for (const state of orderMachine.stateNames) {
      await expect.poll(() => page.locator(`[data-count="${state}"]`).textContent(), { message: state, timeout: 10_000 }).toBe(String(after.get(state) ?? 0));
    }
  });

  it('asks for a token when the page has none, and accepts one typed into the box', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${base}/`);
    await expect.poll(() => fresh.locator('#conn').textContent()).toBe('no token');
    await fresh.fill('#token-input', 'wrong');
    await fresh.click('#token-form button');
    await expect.poll(() => fresh.locator('#conn').textContent()).toBe('token refused');
    await fresh.fill('#token-input', token);
    await fresh.click('#token-form button');
    await expect.poll(() => fresh.locator('#conn').textContent()).toBe('connected');
    await expect.poll(() => fresh.locator('g.state').count()).toBe(orderMachine.stateNames.length);
    await fresh.close();
  });
});

// Keep the screenshot folder around for the run above (it is gitignored).
if (haveChromium) mkdirSync(new URL('../../.scratch/', import.meta.url), { recursive: true });
