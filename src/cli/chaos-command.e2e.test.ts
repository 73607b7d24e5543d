import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../store/index.js';
import type { ChaosReport } from './chaos/chaos-report.js';

const run = promisify(execFile);
const PG = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname, maxBuffer: 16 * 1024 * 1024 });

/** The invariants every run must keep, whatever the broker and the mode. */
function expectAllHeld(r: ChaosReport, planned: number, stderr: string): void {
  expect(r.failures, stderr.slice(-3000)).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.orders).toMatchObject({ planned, placed: planned, settled: planned, unsettled: 0, inDatabase: planned, failedRequests: [] });
  expect((r.orders.byStatus['DELIVERED'] ?? 0) + (r.orders.byStatus['CANCELED'] ?? 0)).toBe(planned);
  expect(r.invariants).toEqual({ ok: true, violations: [] });
  for (const f of r.faults) expect(f.error, `${f.kind} ${f.target}`).toBeUndefined();
  expect(r.unexpectedExits).toEqual([]);
}

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

  it('keeps every invariant in choreography too, where each service reacts to the others\' events', async () => {
    // Seed 257: the payment service is killed first; its restarted member takes over its
    // expired partition leases (the path that once went quiet for good, issue 19).
    const { stdout, stderr } = await ordo('chaos', '--postgres', PG, '--mode', 'choreography', '--orders', '60', '--rate', '15', '--seed', '257', '--fault-every', '1500ms', '--payment-timeout', '3s', '--json');
    const r = JSON.parse(stdout) as ChaosReport;
    expectAllHeld(r, 60, stderr);
    expect(r).toMatchObject({ mode: 'choreography', broker: 'nats', seed: 257 });
    expect(r.faults[0]).toMatchObject({ kind: 'kill', target: 'payment' });
  }, 200_000);
});

describe('ordo chaos --kafka (the same run on a private Kafka broker)', () => {
  it('keeps every invariant while shop processes are killed and their consumer groups rebalance', async () => {
    // Seed 14 with kills only: payment, then shipping. The broker's own restart is covered by
    // the 60 s runs (and transport/restart.e2e.test.ts); a JVM start on a busy box takes 30–60 s.
    const { stdout, stderr } = await ordo('chaos', '--kafka', '--postgres', PG, '--orders', '40', '--rate', '10', '--seed', '14', '--faults', 'kill', '--fault-every', '1500ms', '--payment-timeout', '3s', '--json');
    const r = JSON.parse(stdout) as ChaosReport;
    expectAllHeld(r, 40, stderr);
    expect(r).toMatchObject({ broker: 'kafka', mode: 'orchestration', seed: 14 });
    expect(r.faults[0]).toMatchObject({ kind: 'kill', target: 'payment' });
    expect(r.kept).toBeUndefined();
    expect(stderr).toContain('starting a private Kafka broker on 127.0.0.1:');
    expect(stderr).toContain('stopping the shop processes and the kafka');
  }, 280_000);
});
