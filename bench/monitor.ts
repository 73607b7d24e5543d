import { dropPostgresDatabase } from '../src/store/index.js';
import { silentLogger } from '../src/observe/index.js';
import { startShop, SHOP_SERVICES } from '../src/shop/index.js';
import { createPropertyMonitor } from '../src/shop/monitor/property-monitor.js';
import { putStock } from '../src/shop/services/inventory-service.js';
import type { BenchOptions } from './bench-options.js';
import { machineDescription, progress, summarise, type BenchResult } from './result.js';

/*
 * `ordo bench monitor`: one round of the runtime property monitor (the shop's four
 * invariants read from the four services' databases and judged) over N finished orders
 * (1,000 at scale 1) on the PostgreSQL server. The orders go through the whole shop first
 * (in-process transport, the simulated provider declining some, the carrier delivering),
 * so every order is final and quiet and every invariant, the system-wide
 * StockConservation included, is judged.
 */
const ROUNDS = 7;
const WAVE = 100;
const SKU = 'BENCH-MONITOR';
const PRICE = 500;
const FINAL = ['DELIVERED', 'CANCELED'];

export default async function bench(options: BenchOptions): Promise<BenchResult> {
  const orders = Math.max(10, Math.round(1000 * options.scale));
  const prefix = `ordo_bench_monitor_${process.pid}`;
  const shop = await startShop({
    mode: 'orchestration',
    storage: { kind: 'postgres', url: options.postgresUrl, databasePrefix: prefix },
    transport: { kind: 'inprocess' },
    simulation: { seed: 'bench-monitor', declineRate: 0.1, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0.03, refundFailureRate: 0, deliveryDelayMs: 10 },
    reconcileIntervalMs: false,
    retention: false,
    seed: false,
    port: 0,
    log: silentLogger(),
  });
  try {
    const { orders: service, dbs } = shop;
    if (!service || !dbs.inventory || !dbs.payment || !dbs.shipping) throw new Error('the bench needs every service in this process');
    const inventory = dbs.inventory;
    await inventory.transaction((tx) => putStock(tx, SKU, { available: orders, unitPrice: PRICE }));
    const finished = async () => Number((await service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ordo_saga_instances WHERE state = ANY($1::text[])', [FINAL])).rows[0]?.n ?? 0);
    for (let placed = 0; placed < orders; placed += WAVE) {
      const ids = Array.from({ length: Math.min(WAVE, orders - placed) }, (_, i) => `bench-${placed + i}`);
      for (const id of ids) await service.engine.startSaga(id, 'order', { orderId: id, customerId: 'bench', items: [{ sku: SKU, quantity: 1, unitPrice: PRICE }], total: PRICE });
      await service.engine.deliver(ids.map((id) => ({ id: `${id}:created`, key: id, type: 'OrderCreated', payload: {} })));
      service.notify();
      const end = Date.now() + 120_000;
      while ((await finished()) < placed + ids.length) {
        if (Date.now() > end) throw new Error(`orders did not finish: ${await finished()} of ${placed + ids.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      progress(`${placed + ids.length}/${orders} orders finished`);
    }
    const monitor = createPropertyMonitor({ orders: service, views: { inventory, payment: dbs.payment, shipping: dbs.shipping }, graceMs: 0 });
    const latencies: number[] = [];
    let judged = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const result = await monitor.run();
      latencies.push(performance.now() - t);
      if (result.findings.length > 0) throw new Error(`the monitor found violations on a correct shop: ${JSON.stringify(result.findings)}`);
      judged = result.reports.filter((x) => !x.skipped).length;
    }
    const canceled = Number((await service.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_instances WHERE state = 'CANCELED'`)).rows[0]?.n ?? 0);
    const seconds = latencies.reduce((a, b) => a + b, 0) / 1000;
    return {
      suite: 'monitor',
      machine: machineDescription(),
      runs: [summarise(`monitor round, ${orders} finished orders`, ROUNDS, seconds, latencies, { orders, canceled, propertiesJudged: judged })],
      ratios: {},
      notes: ['opsPerSec = rounds/s; p50Ms/p99Ms = one round (read 4 databases + judge 4 invariants), the first round included'],
    };
  } finally {
    await shop.stop();
    for (const s of SHOP_SERVICES) await dropPostgresDatabase(options.postgresUrl, `${prefix}_${s}`).catch(() => undefined);
  }
}
