import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { handleCommand, migrateEventsourcing } from '../eventsourcing/index.js';
import { listOrders, orderDecider, orderStream, orderViewProjection } from '../shop/index.js';
import { migrateStore, openPglite, type Db } from '../store/index.js';
import { freshPostgres } from '../testing/fresh-database.js';

const run = promisify(execFile);
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname });

async function seed(db: Db, n: number): Promise<void> {
  await migrateStore(db);
  await migrateEventsourcing(db);
  await orderViewProjection.setup(db, orderViewProjection.table);
  for (let i = 0; i < n; i++) {
    const id = `cli-${i}`;
    await handleCommand(db, orderDecider, orderStream(id), { type: 'CreateOrder', orderId: id, customerId: 'c', items: [{ sku: 'S', quantity: 1, unitPrice: 100 }] }, { projections: [orderViewProjection] });
    await handleCommand(db, orderDecider, orderStream(id), { type: 'ReserveInventory' }, { projections: [orderViewProjection] });
  }
  // The live table drifts (a projection bug, a manual edit): the rebuild must repair it.
  await db.query(`UPDATE order_view SET status = 'DELIVERED'`);
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('ordo projections (the real CLI process)', () => {
  it('rebuilds the order view of an embedded data directory, with progress on stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ordo-proj-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = await openPglite({ dataDir: dir });
    await seed(db, 5);
    await db.close();

    const { stdout, stderr } = await ordo('projections', 'rebuild', 'order_view', '--data-dir', dir, '--json', '--batch-size', '3');
    expect(JSON.parse(stdout)).toMatchObject({ projection: 'order_view', table: 'order_view', builtAs: 'order_view_rebuild_1', mode: 'inline', messages: 10 });
    expect(stderr).toMatch(/replay .*%/);
    expect(stderr).toMatch(/swapped 100% \(10\/10 messages\)/);

    const after = await openPglite({ dataDir: dir });
    const page = await listOrders(after, { limit: 50 });
    await after.close();
    expect(page.orders).toHaveLength(5);
    expect(page.orders.every((o) => o.status === 'INVENTORY_RESERVING')).toBe(true);

    const listed = await ordo('projections', 'list', '--data-dir', dir, '--json');
    expect(JSON.parse(listed.stdout)).toMatchObject({ projections: [{ name: 'order_view', table: 'order_view', rebuilds: 1 }] });
  });

  it('rebuilds on a PostgreSQL server', async () => {
    const pg = await freshPostgres('es_cli');
    cleanups.push(() => pg.close());
    await seed(pg.db, 4);
    const { stdout } = await ordo('projections', 'rebuild', 'order_view', '--postgres', pg.url);
    expect(stdout).toMatch(/^rebuilt order_view: 8 messages replayed into order_view_rebuild_1, swapped in as order_view \(inline\)/);
    const page = await listOrders(pg.db, { limit: 50 });
    expect(page.orders.map((o) => o.status)).toEqual(Array(4).fill('INVENTORY_RESERVING'));
  });

  it('fails clearly on an unknown projection, a missing database flag or a database without a log', async () => {
    const fail = (...args: string[]) => ordo(...args).catch((e: unknown) => e as { code: number; stderr: string });
    await expect(fail('projections', 'rebuild', 'nope', '--data-dir', '/tmp/x')).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown projection "nope"; known: order_view') as string });
    await expect(fail('projections', 'rebuild', 'order_view')).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('--postgres URL or --data-dir DIR') as string });
    const empty = await mkdtemp(join(tmpdir(), 'ordo-empty-'));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    await expect(fail('projections', 'rebuild', 'order_view', '--data-dir', empty)).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('has no message log') as string });
  });
});
