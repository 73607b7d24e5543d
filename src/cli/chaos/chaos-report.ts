import type { FaultKind } from './fault-schedule.js';

export interface InjectedFault {
  /** When it was injected, from the start of the load. */
  readonly atMs: number;
  readonly kind: FaultKind;
  readonly target: string;
  /** How long the target was killed or stopped. */
  readonly downMs: number;
  /** From injection until the target was back (restarted and ready, or continued). */
  readonly recoveredMs?: number;
  /** Set when the target could not be brought back. */
  readonly error?: string;
}

export interface UnexpectedExit {
  readonly atMs: number;
  readonly process: string;
  readonly code: number | null;
  readonly signal: string | null;
}

/** What `ordo chaos` prints (`--json`: this object). */
export interface ChaosReport {
  /** Every invariant holds, every order settled, nothing crashed by itself. */
  readonly ok: boolean;
  /** Why `ok` is false, one line each. */
  readonly failures: readonly string[];
  readonly mode: string;
  /** The broker the shop ran on. */
  readonly broker: 'nats' | 'kafka';
  readonly seed: number;
  readonly namespace: string;
  readonly load: { readonly rate: number; readonly orders?: number; readonly durationMs?: number };
  readonly orders: {
    readonly planned: number;
    /** Accepted by the gateway (202), distinct ids. */
    readonly placed: number;
    /** Placed and in DELIVERED or CANCELED at the end. */
    readonly settled: number;
    readonly unsettled: number;
    /** Orders the orders database holds (should equal `placed`). */
    readonly inDatabase: number;
    readonly byStatus: Readonly<Record<string, number>>;
    /** Why the CANCELED ones were cancelled (`PaymentRefused`, `InventoryInsufficient`, `timed out (…)`), from the gateway's order view. */
    readonly cancelReasons?: Readonly<Record<string, number>>;
    readonly retriedRequests: number;
    readonly failedRequests: readonly string[];
  };
  readonly faults: readonly InjectedFault[];
  readonly unexpectedExits: readonly UnexpectedExit[];
  /** Dead-lettered messages per database (informational: a dead letter that mattered shows as an unsettled order or a violation). */
  readonly deadLetters: Readonly<Record<string, number>>;
  readonly invariants: { readonly ok: boolean; readonly violations: readonly string[] };
  readonly seconds: { readonly setup: number; readonly load: number; readonly settle: number; readonly total: number };
  readonly throughput: { readonly placedPerSec: number; readonly settledPerSec: number };
  /** With `--keep`, or when the run failed: what was left for inspection. */
  readonly kept?: { readonly databases?: readonly string[]; readonly dir: string };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function describeFault(f: InjectedFault): string {
  const what = f.kind === 'pause' ? `pause ${f.target}` : `kill ${f.target}`;
  const how = f.kind === 'pause' ? `stopped ${s(f.downMs)}` : `down ${s(f.downMs)}, back after ${f.recoveredMs === undefined ? '—' : s(f.recoveredMs)}`;
  return `${s(f.atMs).padStart(7)}  ${what.padEnd(22)} ${how}${f.error ? `  FAILED: ${f.error}` : ''}`;
}

/** The report as text, for a terminal. */
export function formatChaosReport(r: ChaosReport): string {
  const lines: string[] = [];
  const load = r.load.orders !== undefined ? `${r.load.orders} orders` : `${s(r.load.durationMs ?? 0)}`;
  lines.push(`ordo chaos: ${r.mode} on ${r.broker === 'kafka' ? 'Kafka' : 'NATS'}, seed ${r.seed}, ${load} at ${r.load.rate}/s, namespace ${r.namespace}`);
  lines.push('');
  const o = r.orders;
  lines.push(`orders      ${o.placed} placed of ${o.planned} planned (${o.retriedRequests} requests retried, ${o.failedRequests.length} orders never accepted), ${o.settled} settled, ${o.unsettled} not`);
  lines.push(`            ${Object.entries(o.byStatus).sort().map(([k, v]) => `${k} ${v}`).join(' · ') || 'none'}${o.inDatabase !== o.placed ? `  (the orders database holds ${o.inDatabase})` : ''}`);
  if (o.cancelReasons) lines.push(`            canceled: ${Object.entries(o.cancelReasons).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  for (const f of o.failedRequests.slice(0, 5)) lines.push(`            ${f}`);
  lines.push(`faults      ${r.faults.length} injected`);
  for (const f of r.faults) lines.push(`  ${describeFault(f)}`);
  if (r.unexpectedExits.length) {
    lines.push(`crashes     ${r.unexpectedExits.length} process exits nobody asked for`);
    for (const e of r.unexpectedExits) lines.push(`  ${s(e.atMs).padStart(7)}  ${e.process} exited (${e.signal ?? `code ${e.code}`})`);
  }
  lines.push(`invariants  ${r.invariants.ok ? 'all hold' : `${r.invariants.violations.length} VIOLATED`}`);
  for (const v of r.invariants.violations.slice(0, 20)) lines.push(`  - ${v}`);
  const dead = Object.entries(r.deadLetters).filter(([, n]) => n > 0);
  lines.push(`dead letters ${dead.length ? dead.map(([db, n]) => `${db} ${n}`).join(', ') : 'none'}`);
  lines.push(`throughput  ${r.throughput.placedPerSec.toFixed(1)} orders/s placed, ${r.throughput.settledPerSec.toFixed(1)} orders/s settled (from the first order until quiet)`);
  lines.push(`time        setup ${s(r.seconds.setup * 1000)}, load ${s(r.seconds.load * 1000)}, settle ${s(r.seconds.settle * 1000)}, total ${s(r.seconds.total * 1000)}`);
  if (r.kept) lines.push(`kept        ${r.kept.dir}${r.kept.databases?.length ? `; databases ${r.kept.databases.join(', ')}` : ''}`);
  lines.push('');
  lines.push(r.ok ? 'PASS' : `FAIL\n${r.failures.map((f) => `  - ${f}`).join('\n')}`);
  return `${lines.join('\n')}\n`;
}
