import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { sagaVersionCounts, type MigrationReport } from '../runtime/index.js';
import { dropServerShop, http, openServerShopDbs, placeOrders, QUIET_SIMULATION, timelineProblems, waitForQuiet, waitUntil } from './e2e-support.js';
import type { OrderDetails } from './gateway/schemas.js';
import type { ShopDbs } from './shop-invariants.js';
import { startShop, type RunningShop, type ShopOptions } from './shop.js';

const PG = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS = process.env['ORDO_TEST_NATS'] ?? 'nats://127.0.0.1:4222';
const ORDERS = Number(process.env['ORDO_E2E_MIGRATION_ORDERS'] ?? 1000);
const SKUS = ['A', 'B', 'C', 'D'];
// About four in five orders find stock; the rest are cancelled (a compensation path in flight too).
const STOCK = Math.round(ORDERS * 0.45);
const ns = `ordo_t_lm_${randomBytes(3).toString('hex')}`;
const token = `adm_test_${randomBytes(8).toString('hex')}`;
const running: RunningShop[] = [];
let dbs: ShopDbs | undefined;

afterAll(async () => {
  for (const s of running.reverse()) await s.stop().catch(() => undefined);
  if (dbs) for (const db of [dbs.orders, dbs.inventory, dbs.payment, dbs.shipping]) await db.close();
  await dropServerShop(PG, NATS, ns);
}, 60_000);

/** A part of the shop on the PostgreSQL server and NATS (as `ordo start --service …` runs it), in this process. */
async function part(services: ShopOptions['services'], extra: Partial<ShopOptions> = {}): Promise<RunningShop> {
  const shop = await startShop({
    mode: 'orchestration',
    storage: { kind: 'postgres', url: PG, databasePrefix: ns },
    // A message the stopped orders service had taken but not acked comes back after ackWait (default 30 s).
    transport: { kind: 'nats', servers: NATS, stream: ns.toUpperCase(), ackWaitMs: 2000 },
    relayLeaseMs: 2000,
    services,
    port: 0,
    adminToken: token,
    seed: false,
    retention: false,
    log: silentLogger(),
    simulation: { seed: 'live-migration', ...QUIET_SIMULATION, deliveryDelayMs: 200, latencyMs: 2, fraudRate: 0.1 },
    ...extra,
  });
  running.push(shop);
  return shop;
}

describe('live migration of the shop’s in-flight orders (PostgreSQL server + NATS)', () => {
  it(`${ORDERS} orders started on v1 finish under v2 after the orders service restarts on v2 mid-flight, with every invariant`, async () => {
    dbs = await openServerShopDbs(PG, ns);
    await part(['inventory', 'payment', 'shipping']);
    const v1 = await part(['orders', 'gateway']);
    const base = v1.url ?? '';
    for (const sku of SKUS) expect((await http(base, token, `/inventory/${sku}`, { method: 'PUT', body: { available: STOCK, unitPrice: 500 } })).status).toBe(200);
    const began = performance.now();
    const ids = await placeOrders(base, token, ORDERS, SKUS);
    const placed = performance.now();
    expect(ids).toHaveLength(ORDERS);

    // Mid-flight: some orders paying or shipping, most still reserving (the inventory service's
    // backlog), replies on their way through NATS while the orders service goes down.
    const open = `SELECT count(*)::text AS n FROM ordo_saga_instances WHERE status <> 'final' AND state NOT IN ('INITIATED', 'INVENTORY_RESERVING')`;
    await waitUntil('orders past their reservation', async () => Number((await dbs?.orders.query<{ n: string }>(open))?.rows[0]?.n) >= 50);
    const atStop = await dbs.orders.query<{ state: string; n: string }>(`SELECT state, count(*)::text AS n FROM ordo_saga_instances WHERE status <> 'final' GROUP BY 1 ORDER BY 1`);
    await v1.stop();
    running.splice(running.indexOf(v1), 1);
    const v2 = await part(['orders', 'gateway'], { orderMachineVersion: 2, migrateOrders: true });
    const reports: readonly MigrationReport[] = (await v2.orders?.engine.migrations()) ?? [];
    expect(reports).toHaveLength(1);
    const report = reports[0];
    expect(report).toMatchObject({ status: 'finished', failed: 0, remaining: 0 });
    expect(report?.migrated).toBeGreaterThan(0);

    const migratedAt = performance.now();
    const quiet = await waitForQuiet(dbs, new Map(), 45_000);
    // Measurements for the record (not asserted): bench/ holds the timed figures.
    const s = (ms: number) => (ms / 1000).toFixed(1);
    process.stderr.write(
      `live migration: ${ORDERS} orders placed in ${s(placed - began)} s; ${report?.migrated} in flight migrated in ${report?.seconds.toFixed(2)} s (${Math.round((report?.migrated ?? 0) / (report?.seconds ?? 1))} instances/s, ${report?.batches} batches) beside the running engine; all finished ${s(performance.now() - migratedAt)} s later: ${JSON.stringify(quiet.byStatus)}; in flight at the switch: ${atStop.rows.map((r) => `${r.state} ${r.n}`).join(', ')}\n`,
    );
    expect(quiet.violations).toEqual([]);
    expect(quiet.orders).toBe(ORDERS);
    expect(Object.keys(quiet.byStatus).sort()).toEqual(['CANCELED', 'DELIVERED']);
    // Nothing unfinished on v1; every order in flight at the switch was moved (or had finished meanwhile).
    const versions = await sagaVersionCounts(dbs.orders);
    expect(versions.filter((v) => v.unfinished > 0)).toEqual([]);
    const onV2 = versions.find((v) => v.version === 2)?.finished ?? 0;
    expect(onV2).toBe(report?.migrated);
    // What the dashboard shows: orders per version, none in flight.
    const overview = await http<{ machine: { version: number }; versions: { version: number; unfinished: number; finished: number }[] }>(v2.url ?? '', token, '/admin/overview');
    expect(overview.body.machine.version).toBe(2);
    expect(overview.body.versions).toEqual(versions.map(({ version, unfinished, finished }) => ({ version, unfinished, finished })));
    expect(atStop.rows.reduce((sum, r) => sum + Number(r.n), 0)).toBeGreaterThanOrEqual(report?.migrated ?? 0);
    for (const table of ['ordo_dead_letters', 'ordo_parked_messages']) expect((await dbs.orders.query(`SELECT 1 FROM ${table}`)).rows, table).toEqual([]);
    // The services took every command, CheckFraud included (payment's fraud rule).
    for (const service of ['inventory', 'payment', 'shipping'] as const) expect((await dbs[service].query('SELECT type, reason FROM service_dead_letters')).rows, service).toEqual([]);
    expect(Number((await dbs.payment.query<{ n: string }>('SELECT count(*)::text AS n FROM fraud_checks')).rows[0]?.n)).toBeGreaterThan(0);
    // A migrated order's history shows the move, and its timeline still chains to its status.
    const migrated = (await dbs.orders.query<{ stream: string }>(`SELECT stream FROM ordo_messages WHERE type = 'ordo.migrated' LIMIT 5`)).rows.map((r) => r.stream.replace(/^order-/, ''));
    for (const id of migrated) {
      const d = await http<OrderDetails>(v2.url ?? '', token, `/orders/${id}`);
      expect(d.status, id).toBe(200);
      expect(d.body.timeline.some((t) => t.type === 'migration'), id).toBe(true);
      expect(timelineProblems(d.body.status, d.body.timeline), id).toEqual([]);
    }
    const [run] = (await dbs.orders.query<{ status: string; migrated: number; operator: string }>('SELECT status, migrated, operator FROM ordo_saga_migration_runs')).rows;
    expect(run).toMatchObject({ status: 'finished', migrated: report?.migrated, operator: 'engine:ordo-saga-engine' });
  }, 180_000);
});
