// How far order_view (GET /orders) runs behind the log while `ordo demo` loads the shop.
// npx tsx scripts/projection-lag.ts [orders=500] [rate=50] [pglite|postgres]
import { spawn } from 'node:child_process';
import { silentLogger } from '../src/observe/index.js';
import { startShop } from '../src/shop/index.js';
import { dropPostgresDatabase, logBacklog, type Db } from '../src/store/index.js';

const orders = Number(process.argv[2] ?? 500);
const rate = process.argv[3] ?? '50';
const server = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const prefix = `ordo_lag_${process.pid}`;
const storage = process.argv[4] === 'postgres' ? { kind: 'postgres' as const, url: server, databasePrefix: prefix } : { kind: 'pglite' as const };
const shop = await startShop({ mode: 'orchestration', storage, transport: { kind: 'inprocess' }, port: 0, log: silentLogger(), simulation: { deliveryDelayMs: 200 } });
const db = shop.dbs.orders as Db;

// The age of the oldest message each reader has not passed yet, every 50 ms.
const samples: { view: number; viewMessages: number; relay: number }[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const view = await logBacklog(db, 'order_view');
    const relay = await logBacklog(db, 'orders-outbox');
    samples.push({ view: view.oldestSeconds * 1000, viewMessages: view.messages, relay: relay.oldestSeconds * 1000 });
    await new Promise((r) => setTimeout(r, 50));
  }
})();
const demo = spawn('node', ['bin/ordo.js', 'demo', '--url', shop.url ?? '', '--token', shop.tokens.adminToken, '--orders', String(orders), '--rate', rate], { stdio: ['ignore', 'ignore', 'inherit'] });
await new Promise((r) => demo.on('close', r));
sampling = false;
await sampler;
await shop.stop();
if (storage.kind === 'postgres') for (const s of ['orders', 'inventory', 'payment', 'shipping']) await dropPostgresDatabase(server, `${prefix}_${s}`);

const at = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const summary = (xs: number[]) => ({ p50: Math.round(at(xs, 0.5)), p99: Math.round(at(xs, 0.99)), max: Math.round(Math.max(...xs)) });
console.log(
  JSON.stringify({
    storage: storage.kind,
    orders,
    rate: Number(rate),
    samples: samples.length,
    orderViewLagMs: summary(samples.map((s) => s.view)),
    orderViewBehindMessagesMax: Math.max(...samples.map((s) => s.viewMessages)),
    outboxRelayLagMs: summary(samples.map((s) => s.relay)),
  }),
);
