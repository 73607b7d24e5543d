import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What pan reports for one exhaustive run. */
export interface SpinRun {
  /** "states, stored": distinct states. */
  readonly states: number;
  /** "transitions (= stored+matched)". */
  readonly transitions: number;
  readonly depth: number;
  readonly errors: number;
  /** Wall time of `spin -a` + `gcc`. */
  readonly compileSeconds: number;
  /** Wall time of the pan process (includes allocating its hash table). */
  readonly runSeconds: number;
  /** pan's own "elapsed time": the search alone. */
  readonly searchSeconds: number;
  readonly output: string;
}

export function spinAvailable(): boolean {
  return spawnSync('spin', ['-V'], { encoding: 'utf8' }).status === 0 && spawnSync('gcc', ['--version']).status === 0;
}

/**
 * Compiles and runs a Promela model exhaustively: pan with -DNOREDUCE (no
 * partial-order reduction, so every interleaving's state is stored), full state
 * storage (no bitstate), -DSAFETY (no cycle search), a deep search bound, and a
 * hash table of 2^hashBits slots (size it to the state count: too big costs time to allocate).
 */
export function runSpin(promela: string, options: { memoryMb?: number; hashBits?: number } = {}): SpinRun {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-spin-'));
  try {
    writeFileSync(join(dir, 'model.pml'), promela);
    let t = performance.now();
    execFileSync('spin', ['-a', 'model.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', ['-O2', '-DNOREDUCE', '-DSAFETY', `-DMEMLIM=${options.memoryMb ?? 8192}`, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    const compileSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const output = execFileSync('./pan', ['-m10000000', `-w${options.hashBits ?? 24}`], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const runSeconds = (performance.now() - t) / 1000;
    const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
    return {
      states: num(/(\d+) states, stored/),
      transitions: num(/(\d+) transitions \(= stored\+matched\)/),
      depth: num(/depth reached (\d+)/),
      errors: num(/errors: (\d+)/),
      compileSeconds,
      runSeconds,
      searchSeconds: Number(/elapsed time ([\d.e+-]+) seconds/.exec(output)?.[1] ?? runSeconds),
      output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
