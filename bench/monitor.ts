import { createPropertyMonitor } from '../src/shop/monitor/property-monitor.js';
import { PRICE, SKU, startReconcileShop, untilState } from '../src/shop/reconcile/reconcile-fixture.js';
import { putStock } from '../src/shop/services/inventory-service.js';
import { freshPostgres } from '../src/testing/index.js';
import type { BenchOptions } from './bench-options.js';
import { machineDescription, progress, summarise, type BenchResult } from './result.js';

/*
 * `ordo bench monitor`: one round of the runtime property monitor (the shop's four
 * invariants read from the four services' databases and judged) over N finished orders
 * (1,000 at scale 1) on the PostgreSQL server. The orders go through the real shop first
 * (orchestration, in-process transport) and are delivered, so every order is quiet and
 * every invariant, the system-wide StockConservation included, is judged.
 */
const ROUNDS = 7;
const WAVE = 50;

export default async function bench(options: BenchOptions): Promise<BenchResult> {
  const orders = Math.max(10, Math.round(1000 * options.scale));
  const shop = await startReconcileShop('orchestration', () => freshPostgres('bench_monitor'));
  try {
    await shop.dbs.inventory.transaction((tx) => putStock(tx, SKU, { available: 2 * orders, unitPrice: PRICE }));
    for (let done = 0; done < orders; done += WAVE) {
      const ids = Array.from({ length: Math.min(WAVE, orders - done) }, (_, i) => `bench-${done + i}`);
      await Promise.all(ids.map((id) => shop.place(id)));
      await Promise.all(ids.map((id) => untilState(shop, id, 'SHIPPED')));
      await shop.orders.engine.deliver(ids.map((id) => ({ id: `${id}:delivered`, key: id, type: 'DeliveryConfirmed', payload: {} })));
      shop.orders.notify();
      await Promise.all(ids.map((id) => untilState(shop, id, 'DELIVERED')));
      progress(`${done + ids.length}/${orders} orders delivered`);
    }
    const monitor = createPropertyMonitor({ orders: shop.orders, views: shop.dbs, graceMs: 0 });
    const latencies: number[] = [];
    let judged = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const result = await monitor.run();
      latencies.push(performance.now() - t);
      if (result.findings.length > 0) throw new Error(`the monitor found violations on a correct shop: ${JSON.stringify(result.findings)}`);
      judged = result.reports.filter((x) => !x.skipped).length;
    }
    const seconds = latencies.reduce((a, b) => a + b, 0) / 1000;
    return {
      suite: 'monitor',
      machine: machineDescription(),
      runs: [summarise(`monitor round, ${orders} finished orders`, ROUNDS, seconds, latencies, { orders, propertiesJudged: judged })],
      ratios: {},
      notes: ['opsPerSec = rounds/s; p50Ms/p99Ms = one round (read 4 databases + judge 4 invariants), first round included'],
    };
  } finally {
    await shop.stop();
  }
}
