import type { Command } from 'commander';
import { progressBar } from './progress-bar.js';
import { failUsage } from './usage-error.js';

interface DemoFlags {
  url: string;
  token?: string;
  orders: string;
  rate: string;
  concurrency: string;
  timeoutS: string;
  json?: boolean;
}

const FINAL = new Set(['DELIVERED', 'CANCELED', 'COMPENSATION_FAILED']);

async function api<T>(url: string, token: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init?.headers } });
  const body = (await r.json()) as T & { error?: { message: string } };
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${r.status} ${body.error?.message ?? ''}`);
  return body;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('load generator: place orders through the gateway and report how they ended')
    .option('--url <url>', 'gateway URL', 'http://127.0.0.1:3000')
    .option('--token <token>', 'admin token (default: ORDO_ADMIN_TOKEN)')
    .option('--orders <n>', 'orders to place', '100')
    .option('--rate <r>', 'orders per second (0: as fast as possible)', '50')
    .option('--concurrency <n>', 'requests in flight', '8')
    .option('--timeout-s <s>', 'how long to wait for orders to finish', '120')
    .option('--json', 'print one JSON object')
    .action(async (flags: DemoFlags) => {
      const token = flags.token ?? process.env['ORDO_ADMIN_TOKEN'];
      if (!token) return failUsage('--token (or ORDO_ADMIN_TOKEN) is required: the admin token printed by `ordo start`');
      const n = Number(flags.orders);
      const rate = Number(flags.rate);
      const conc = Number(flags.concurrency);
      const timeoutS = Number(flags.timeoutS);
      if (!Number.isInteger(n) || n < 1 || n > 1_000_000) return failUsage(`--orders must be a whole number from 1, got "${flags.orders}"`);
      if (!Number.isFinite(rate) || rate < 0) return failUsage(`--rate must be a number ≥ 0, got "${flags.rate}"`);
      if (!Number.isInteger(conc) || conc < 1 || conc > 256) return failUsage(`--concurrency must be 1-256, got "${flags.concurrency}"`);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) return failUsage(`--timeout-s must be positive, got "${flags.timeoutS}"`);
      const base = flags.url.replace(/\/$/, '');
      const stock = await api<{ sku: string }[]>(`${base}/inventory`, token).catch((e: Error) => failUsage(`cannot reach the gateway: ${e.message}`));
      if (stock.length === 0) return failUsage('the shop has no SKUs to order');

      const placing = progressBar('placing ', n);
      const ids: string[] = [];
      let failed = 0;
      const started = Date.now();
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < n; i = next++) {
          if (rate > 0) {
            const due = started + (i / rate) * 1000;
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
          const items = [{ sku: stock[i % stock.length]?.sku ?? '', quantity: 1 + (i % 3) }];
          try {
            const r = await api<{ orderId: string }>(`${base}/orders`, token, { method: 'POST', body: JSON.stringify({ customerId: `demo-${i % 50}`, items }), headers: { 'idempotency-key': `demo-${started}-${i}` } });
            ids.push(r.orderId);
          } catch {
            failed++;
          }
          placing.update(ids.length + failed, failed ? `${failed} failed` : '');
        }
      };
      await Promise.all(Array.from({ length: conc }, worker));
      placing.end(`${((ids.length / (Date.now() - started)) * 1000).toFixed(0)} orders/s accepted`);

      const counts: Record<string, number> = {};
      const waiting = progressBar('finishing', ids.length);
      let pending = [...ids];
      const deadline = Date.now() + timeoutS * 1000;
      while (pending.length > 0 && Date.now() < deadline) {
        const still: string[] = [];
        for (const id of pending) {
          const o = await api<{ status: string }>(`${base}/orders/${id}`, token).catch(() => ({ status: 'UNKNOWN' }));
          if (FINAL.has(o.status)) counts[o.status] = (counts[o.status] ?? 0) + 1;
          else still.push(id);
        }
        pending = still;
        waiting.update(ids.length - pending.length);
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 500));
      }
      waiting.end(pending.length ? `${pending.length} still running after ${timeoutS}s` : 'all finished');
      if (pending.length) counts['STILL_RUNNING'] = pending.length;
      if (failed) counts['REQUEST_FAILED'] = failed;
      const seconds = (Date.now() - started) / 1000;
      if (flags.json) process.stdout.write(JSON.stringify({ orders: n, placed: ids.length, seconds, outcomes: counts }) + '\n');
      else {
        process.stdout.write(`\n${ids.length} orders placed in ${seconds.toFixed(1)} s; outcomes:\n`);
        for (const [k, v] of Object.entries(counts).sort()) process.stdout.write(`  ${k.padEnd(22)} ${v}\n`);
      }
    });
}
