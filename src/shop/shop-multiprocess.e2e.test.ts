import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../store/index.js';
import { dropServerShop, http, openServerShopDbs, placeOrders, timelineProblems, waitForQuiet } from './e2e-support.js';
import { freePort } from '../transport/free-port.js';
import type { OrderDetails } from './gateway/schemas.js';
import type { ShopDbs } from './shop-invariants.js';

const PG = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS = process.env['ORDO_TEST_NATS'] ?? 'nats://127.0.0.1:4222';
const ORDERS = Number(process.env['ORDO_E2E_ORDERS'] ?? 2000);
const SKUS = ['A', 'B', 'C', 'D'];
const STOCK = Math.round(ORDERS * 0.4);
const ROOT = new URL('../..', import.meta.url).pathname;

function startPart(service: string, ns: string, mode: string, port: number, token: string, logs: string[]): ChildProcess {
  const child = spawn(
    'node',
    [
      'bin/ordo.js', 'start', '--service', service, '--postgres', PG, '--nats', NATS, '--namespace', ns, '--mode', mode, '--port', String(port), '--no-seed',
      '--delivery-delay-ms', '100', '--decline-rate', '0.1', '--error-rate', '0.05', '--never-answers-rate', '0.01', '--shipment-failure-rate', '0.05', '--payment-timeout-ms', '3000',
    ],
    { cwd: ROOT, env: { ...process.env, ORDO_ADMIN_TOKEN: token, ORDO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (d: Buffer) => {
    logs.push(`[${service}] ${d.toString()}`);
    if (logs.length > 200) logs.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

describe.each(['orchestration', 'choreography'] as const)('the shop as five processes on PostgreSQL + NATS, %s', (mode) => {
  const ns = `ordo_mp_${mode.slice(0, 4)}_${randomBytes(3).toString('hex')}`;
  const token = `adm_test_${randomBytes(8).toString('hex')}`;
  // A port the OS says is free (a random one in a fixed range once landed on NATS's 4222).
  let port = 0;
  let base = '';
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  let dbs: ShopDbs;

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Create the databases first so the five processes do not race to create them.
    dbs = await openServerShopDbs(PG, ns);
    for (const s of ['inventory', 'payment', 'shipping', 'orders', 'gateway']) children.push(startPart(s, ns, mode, port, token, logs));
    const end = Date.now() + 90_000;
    for (;;) {
      const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > end) throw new Error(`gateway did not come up:\n${logs.join('')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The inventory process creates its tables; wait for them before stocking.
    for (let i = 0; i < 100; i++) {
      const r = await dbs.inventory.query(`SELECT 1 FROM pg_tables WHERE tablename = 'stock'`);
      if (r.rows.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const sku of SKUS) expect((await http(base, token, `/inventory/${sku}`, { method: 'PUT', body: { available: STOCK, unitPrice: 500 } })).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    for (const db of Object.values(dbs ?? {})) await (db as Db).close();
    await dropServerShop(PG, NATS, ns);
  }, 60_000);

  it(`takes ${ORDERS} orders with failures to DELIVERED or CANCELED and keeps every invariant`, async () => {
    const ids = await placeOrders(base, token, ORDERS, SKUS);
    const initial = new Map(SKUS.map((s) => [s, STOCK]));
    const report = await waitForQuiet(dbs, initial, 300_000);
    expect(report.violations, logs.slice(-20).join('')).toEqual([]);
    expect(report.orders).toBe(ORDERS);
    expect(Object.keys(report.byStatus).sort()).toEqual(['CANCELED', 'DELIVERED']);
    const statusOf = new Map<string, string>();
    for (const id of ids.slice(0, 100)) {
      const { body } = await http<OrderDetails>(base, token, `/orders/${id}`);
      expect(timelineProblems(body.status, body.timeline), id).toEqual([]);
      statusOf.set(id, body.status);
    }
    // GET /orders pages through order_view, which the orders and the gateway processes both
    // project (taking turns): every order once, in the state its own stream says.
    const listed = new Map<string, string>();
    const pageThrough = async () => {
      listed.clear();
      let cursor: string | undefined;
      do {
        const page = await http<{ orders: { orderId: string; status: string }[]; nextCursor?: string }>(base, token, `/orders?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        for (const o of page.body.orders) {
          expect(listed.has(o.orderId), o.orderId).toBe(false);
          listed.set(o.orderId, o.status);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      return [...statusOf].every(([id, status]) => listed.get(id) === status);
    };
    const end = Date.now() + 30_000;
    while (!(await pageThrough()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(listed.size).toBe(ORDERS);
    for (const [id, status] of statusOf) expect(listed.get(id), id).toBe(status);
  }, 900_000);
});
