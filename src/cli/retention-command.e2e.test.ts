import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { startShop } from '../shop/index.js';
import { dropPostgresDatabase, heldStreams, openPostgres } from '../store/index.js';
import { TEST_POSTGRES_ADMIN_URL } from '../testing/fresh-database.js';

const run = promisify(execFile);
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname });
const namespace = `ordo_t_ret_${randomBytes(3).toString('hex')}`;

afterAll(async () => {
  for (const s of ['orders', 'inventory', 'payment', 'shipping']) await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${namespace}_${s}`);
});

describe('ordo retention (the real CLI process, a shop on the PostgreSQL server)', () => {
  it('retires a delivered order to the archive and reports per database; bad flags get a clear error', async () => {
    const shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'postgres', url: TEST_POSTGRES_ADMIN_URL, databasePrefix: namespace },
      transport: { kind: 'inprocess' },
      port: 0,
      retention: false,
      log: silentLogger(),
      simulation: { seed: 'retention-cli', declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0, refundFailureRate: 0, deliveryDelayMs: 0, latencyMs: 0 },
    });
    let orderId = '';
    try {
      const engine = shop.orders!.engine;
      const r = await fetch(`${shop.url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shop.tokens.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'alice', items: [{ sku: 'TEA-GREEN', quantity: 1 }] }),
      });
      orderId = ((await r.json()) as { orderId: string }).orderId;
      const end = Date.now() + 60_000;
      while ((await engine.getSaga(orderId))?.snapshot.state !== 'DELIVERED' && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
      expect((await engine.getSaga(orderId))?.snapshot.state).toBe('DELIVERED');
      // The relay publishes the order's last messages; only then may its stream leave the log.
      while ((await heldStreams(shop.dbs.orders!, [`order-${orderId}`, `reconcile-${orderId}`])).size > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    } finally {
      await shop.stop();
    }

    const { stdout, stderr } = await ordo('retention', '--postgres', TEST_POSTGRES_ADMIN_URL, '--namespace', namespace, '--retention-finished', '0s', '--json');
    const report = JSON.parse(stdout) as { policy: { mode: string }; databases: Record<string, { sagas: number; held: number }> };
    expect(report.policy.mode).toBe('archive');
    expect(Object.keys(report.databases).sort()).toEqual(['inventory', 'orders', 'payment', 'shipping']);
    expect(report.databases['orders']).toMatchObject({ sagas: 1, held: 0 });
    expect(stderr).toMatch(/orders: retention round/);
    const url = new URL(TEST_POSTGRES_ADMIN_URL);
    url.pathname = `/${namespace}_orders`;
    const db = openPostgres({ url: url.toString(), max: 1 });
    try {
      expect((await db.query('SELECT 1 FROM ordo_saga_instances WHERE id = $1', [orderId])).rows).toHaveLength(0);
      expect((await db.query('SELECT 1 FROM ordo_saga_instances_archive WHERE id = $1', [orderId])).rows).toHaveLength(1);
    } finally {
      await db.close();
    }

    for (const [args, message] of [
      [['--postgres', TEST_POSTGRES_ADMIN_URL, '--retention-mode', 'shred'], /--retention-mode must be archive or delete/],
      [['--retention-finished', '1d'], /--postgres URL .* or --data-dir DIR/],
      [['--postgres', TEST_POSTGRES_ADMIN_URL, '--namespace', 'nothing_here'], /no shop database found/],
    ] as const) {
      const failed = (await ordo('retention', ...args).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code: number; stderr: string } | undefined;
      expect(failed?.code).toBe(2);
      expect(failed?.stderr).toMatch(message);
    }
  });
});
