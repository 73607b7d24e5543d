import type { SystemCheckResult, TraceStep, Violation } from './system-checker.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, k) => (widths[k] = Math.max(widths[k] ?? 0, c.length)));
  return rows.map((r) => r.map((c, k) => c.padEnd(widths[k] ?? 0)).join('  ').trimEnd()).join('\n');
}

const show = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'object' && 'status' in v ? String((v).status) : JSON.stringify(v));

/**
 * A counterexample as a readable table: one row per step, one column per key's state, then
 * the shared states. A trace of a migration check is cut in three: the old version's history,
 * the (first) migrate step, and the continuation.
 */
export function formatTrace(trace: readonly TraceStep[]): string {
  const n = trace[0]?.states.length ?? 0;
  const header = ['#', 'actor', 'key', 'action', ...Array.from({ length: n }, (_, i) => `key ${i + 1}`), 'shared'];
  const rows = trace.map((s) => [String(s.step) + (s.cycle ? '↻' : ''), s.actor, s.order ? String(s.order) : '', s.action, ...s.states, JSON.stringify(s.shared)]);
  const lines = table([header, ...rows]).split('\n');
  const first = trace.findIndex((s) => s.actor === 'migrator');
  if (first < 0) return lines.join('\n');
  const versions = /migrate v?(\d+)→v?(\d+)/.exec(trace[first]?.action ?? '');
  const [v1, v2] = [versions?.[1] ?? 'old', versions?.[2] ?? 'new'];
  return [lines[0], `── v${v1} history`, ...lines.slice(1, first + 1), '── the migrate step', lines[first + 1], `── v${v2} continuation`, ...lines.slice(first + 2)].join('\n');
}

export function formatViolation(v: Violation): string {
  const lasso = v.trace.some((s) => s.cycle);
  const last = v.trace[v.trace.length - 1];
  const detail = last
    ? last.keys
        .map((o, i) => `  key ${i + 1}: ${o.state}, ${Object.entries(o.participants).map(([p, v]) => `${p} ${show(v)}`).join(', ')}${o.inFlight.length ? `, in flight: ${o.inFlight.join(', ')}` : ''}${o.parked.length ? `, parked: ${o.parked.join(', ')}` : ''}`)
        .join('\n')
    : '';
  return `✗ ${v.property}: ${lasso ? 'a fair cycle (rows marked ↻ repeat forever)' : `shortest trace, ${v.trace.length - 1} steps`}\n${formatTrace(v.trace)}\nfinal state:\n${detail}\n`;
}

/** The whole result as text: counts, each property's status, then every counterexample. */
export function formatResult(r: SystemCheckResult): string {
  const faults = Object.entries(r.faults).map(([f, n]) => (n === 1 ? f : `${f}=${n}`)).join(',') || 'none';
  const lines = [
    `model ${r.model}: ${r.keys} key(s), faults ${faults}${r.symmetry ? ', symmetry reduction' : ''}`,
    `${r.states} states, ${r.transitions} transitions, depth ${r.depth}${r.seconds === undefined ? '' : `, ${r.seconds.toFixed(2)} s`}`,
    '',
    ...r.properties.map((p) => `  ${p.status === 'violated' ? '✗' : p.status === 'holds' ? '✓' : '·'} ${p.name.padEnd(24)} ${p.status.padEnd(9)} ${p.kind.padEnd(8)} ${p.description}`),
    '',
  ];
  return lines.join('\n') + r.violations.map(formatViolation).join('\n');
}
