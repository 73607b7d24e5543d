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

const parse = (output: string, compileSeconds: number, runSeconds: number): SpinRun => {
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
};

/** Writes the model, runs `spin -a` and gcc with these flags, then `run` in that directory. */
function withPan<T>(promela: string, flags: readonly string[], run: (dir: string, compileSeconds: number) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-spin-'));
  try {
    writeFileSync(join(dir, 'model.pml'), promela);
    const t = performance.now();
    execFileSync('spin', ['-a', 'model.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', ['-O2', '-DNOREDUCE', ...flags, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    return run(dir, (performance.now() - t) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pan = (dir: string, args: readonly string[]): { output: string; seconds: number } => {
  const t = performance.now();
  const output = execFileSync('./pan', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { output, seconds: (performance.now() - t) / 1000 };
};

/**
 * Compiles and runs a Promela model exhaustively: pan with -DNOREDUCE (no
 * partial-order reduction, so every interleaving's state is stored), full state
 * storage (no bitstate), -DSAFETY (no cycle search), -DNOCLAIM (the model's ltl
 * claims left out: the states are the system's alone), a deep search bound, and a
 * hash table of 2^hashBits slots (size it to the state count: too big costs time to allocate).
 */
export function runSpin(promela: string, options: { memoryMb?: number; hashBits?: number } = {}): SpinRun {
  return withPan(promela, ['-DSAFETY', '-DNOCLAIM', `-DMEMLIM=${options.memoryMb ?? 8192}`], (dir, compileSeconds) => {
    const r = pan(dir, ['-m10000000', `-w${options.hashBits ?? 24}`]);
    return parse(r.output, compileSeconds, r.seconds);
  });
}

/** Compiles a model once and checks each named ltl claim in its own pan run (`pan -a -N <claim>`: acceptance cycles too). */
export function runSpinClaims(promela: string, claims: readonly string[], options: { memoryMb?: number; hashBits?: number } = {}): Record<string, SpinRun> {
  return withPan(promela, [`-DMEMLIM=${options.memoryMb ?? 8192}`], (dir, compileSeconds) =>
    Object.fromEntries(
      claims.map((c) => {
        const r = pan(dir, ['-a', '-m10000000', `-w${options.hashBits ?? 20}`, '-N', c]);
        return [c, parse(r.output, compileSeconds, r.seconds)];
      }),
    ),
  );
}
