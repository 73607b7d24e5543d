import { cpus, totalmem } from 'node:os';

/** One measured thing: ordo's or the reference's, from the same run. */
export interface BenchRun {
  readonly name: string;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly [extra: string]: unknown;
}

/** DESIGN.md §3: ratios above 1 mean ordo is ahead. */
export interface BenchResult {
  readonly suite: string;
  readonly machine: string;
  readonly runs: readonly BenchRun[];
  readonly ratios: Readonly<Record<string, number>>;
  readonly notes?: readonly string[];
}

export function machineDescription(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${process.platform}`;
}

/** Percentile of latencies in ms (nearest rank). */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i] ?? 0;
}

export function summarise(name: string, ops: number, seconds: number, latenciesMs: number[], extra: Record<string, unknown> = {}): BenchRun {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { name, opsPerSec: seconds > 0 ? ops / seconds : 0, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), ...extra };
}

/** Progress on stderr so `--json` stdout stays one object. */
export function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}
