import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../store/index.js';
import type { ChaosReport } from './chaos/chaos-report.js';

const run = promisify(execFile);
const PG = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname, maxBuffer: 16 * 1024 * 1024 });

describe('ordo chaos (the real CLI process, five shop processes, a private nats-server)', () => {
  it('keeps every invariant while processes and the broker are killed, and cleans up after itself', async () => {
    // Seed 13's plan: kill nats-server, then kill the orders process (its relay lease and consumers are taken over on restart).
    const { stdout, stderr } = await ordo('chaos', '--postgres', PG, '--orders', '60', '--rate', '15', '--seed', '13', '--fault-every', '1500ms', '--payment-timeout', '3s', '--json');
    const r = JSON.parse(stdout) as ChaosReport;
    expect(r.failures, stderr.slice(-3000)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.orders).toMatchObject({ planned: 60, placed: 60, settled: 60, unsettled: 0, inDatabase: 60, failedRequests: [] });
    expect((r.orders.byStatus['DELIVERED'] ?? 0) + (r.orders.byStatus['CANCELED'] ?? 0)).toBe(60);
    expect(r.invariants).toEqual({ ok: true, violations: [] });
    expect(r.faults.length).toBeGreaterThan(0);
    expect(r.faults[0]).toMatchObject({ kind: 'nats', target: 'nats-server' });
    for (const f of r.faults) expect(f.error, `${f.kind} ${f.target}`).toBeUndefined();
    expect(r.unexpectedExits).toEqual([]);
    expect(r.seed).toBe(13);
    expect(r.kept).toBeUndefined();
    // Its databases are gone.
    const admin = openPostgres({ url: PG, max: 1 });
    const left = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${r.namespace}_%`]);
    await admin.close();
    expect(left.rows).toEqual([]);
    // The progress line and the steps went to stderr.
    expect(stderr).toMatch(/placing {2}\[/);
    expect(stderr).toContain(`dropping ${r.namespace}_orders`);
  }, 150_000);
});
