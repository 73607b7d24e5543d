import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from '../runtime/index.js';
import { embeddedDatabases, orderMachine } from '../shop/index.js';
import { dropPostgresDatabase, ensurePostgresDatabase, migrate, migrateStore, openPostgres, type Db } from '../store/index.js';
import { sampleOrder } from '../testing/index.js';
import { TEST_POSTGRES_ADMIN_URL } from '../testing/fresh-database.js';

const run = promisify(execFile);
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname });
const fails = (...args: string[]) => ordo(...args).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
const namespace = `ordo_t_migr_${randomBytes(3).toString('hex')}`;

const dataDir = mkdtempSync(join(tmpdir(), 'ordo-migrate-'));
afterAll(async () => {
  await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${namespace}_orders`);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Five v1 orders reserving stock, one of them paying. */
async function v1Orders(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
  const v1 = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: false, migrate: false });
  await v1.start();
  for (let i = 0; i < 5; i++) await v1.startSaga(`o${i}`, 'order', sampleOrder(`o${i}`), { first: { id: `o${i}:c`, type: 'OrderCreated' } });
  await v1.deliver([{ id: 'o0:r', key: 'o0', type: 'InventoryReserved', payload: { reservationId: 'r' } }]);
  await v1.stop();
}

describe('ordo migrate (the real CLI process, an orders database on the PostgreSQL server)', () => {
  it('dry-runs per state, moves the in-flight orders to v2 with counts before and after, and refuses bad flags clearly', async () => {
    const db = openPostgres({ url: await ensurePostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${namespace}_orders`), max: 2 });
    try {
      await v1Orders(db);
    } finally {
      await db.close();
    }
    const storage = ['--postgres', TEST_POSTGRES_ADMIN_URL, '--namespace', namespace];

    const dry = JSON.parse((await ordo('migrate', ...storage, '--dry-run', '--json')).stdout) as { plan: unknown[]; before: unknown[] };
    expect(dry.plan).toEqual([
      { state: 'INVENTORY_RESERVING', to: 'INVENTORY_RESERVING', pending: 'await', instances: 4 },
      { state: 'PAYMENT_PROCESSING', to: 'PAYMENT_PROCESSING', pending: 'await', instances: 1 },
    ]);
    expect(dry.before).toEqual([{ machine: 'order', version: 1, unfinished: 5, finished: 0 }]);

    const text = (await ordo('migrate', ...storage, '--batch', '2')).stdout;
    expect(text).toMatch(/before: v1: 5 in flight, 0 finished/);
    expect(text).toMatch(/after: {2}v2: 5 in flight, 0 finished/);
    expect(text).toMatch(/run #\d+: 5 moved, 0 refused by the mapping, 0 left on v1; \d+ instances\/s/);
    const again = JSON.parse((await ordo('migrate', ...storage, '--json')).stdout) as { report: { migrated: number; status: string } };
    expect(again.report).toMatchObject({ migrated: 0, status: 'finished' });

    for (const [args, message] of [
      [['--machine', 'trip'], /--machine: unknown machine "trip"; known: order/],
      [['--to', '3'], /--to: order has no migration to version "3"; known: v1→v2/],
      [['--batch', '0'], /--batch must be a whole number from 1 to 10000/],
      [['--data-dir', '/tmp/x'], /give either --postgres or --data-dir, not both/],
    ] as const) {
      const r = await fails('migrate', ...storage, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect((await fails('migrate')).stderr).toMatch(/give the shop's storage/);
  });

  it("opens an embedded shop's orders database with --data-dir", async () => {
    const db = await embeddedDatabases(dataDir)('orders');
    try {
      await v1Orders(db);
    } finally {
      await db.close();
    }
    const r = JSON.parse((await ordo('migrate', '--data-dir', dataDir, '--json')).stdout) as { report: { migrated: number }; after: unknown[] };
    expect(r.report.migrated).toBe(5);
    expect(r.after).toEqual([{ machine: 'order', version: 2, unfinished: 5, finished: 0 }]);
    expect((await fails('migrate', '--data-dir', join(dataDir, 'nothing'))).stderr).toMatch(/no orders database found/);
  });
});
