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

export interface SpinOptions {
  readonly memoryMb?: number;
  /** Hash table of 2^hashBits slots (size it to the state count: too big costs time to allocate). */
  readonly hashBits?: number;
  /** pan's search depth bound (-m, default 10,000,000); a run that reaches it runs again with the default. */
  readonly maxDepth?: number;
  /** gcc -O2 (the default) or -O0: the same states and verdicts, pan a little slower, its compile ~3× faster. */
  readonly optimise?: boolean;
}

const DEPTH = 10_000_000;

/**
 * For checks that compare counts and verdicts and time nothing (the tests): a quick compile,
 * a search stack of 10,000 steps (pan's default 10,000,000 takes ~1.7 s CPU to set up per
 * run; the shop's deepest search is 33 steps), and a hash table sized to `states` if known.
 */
export function spinForCounts(states?: number): SpinOptions {
  return { maxDepth: 10_000, optimise: false, ...(states ? { hashBits: Math.min(24, Math.max(10, Math.ceil(Math.log2(states)) + 1)) } : {}) };
}

/** Writes the model, runs `spin -a` and gcc with these flags, then `run` in that directory. */
function withPan<T>(promela: string, flags: readonly string[], options: SpinOptions, run: (dir: string, compileSeconds: number) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-spin-'));
  try {
    writeFileSync(join(dir, 'model.pml'), promela);
    const t = performance.now();
    execFileSync('spin', ['-a', 'model.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', [options.optimise === false ? '-O0' : '-O2', '-DNOREDUCE', ...flags, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    return run(dir, (performance.now() - t) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const panOnce = (dir: string, args: readonly string[]): { output: string; seconds: number } => {
  const t = performance.now();
  const output = execFileSync('./pan', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { output, seconds: (performance.now() - t) / 1000 };
};

/** Runs pan with `-m<depth>`; a search cut short by that bound (not exhaustive) runs again with the default bound. */
const pan = (dir: string, args: readonly string[], depth = DEPTH): { output: string; seconds: number } => {
  const r = panOnce(dir, [`-m${depth}`, ...args]);
  return depth < DEPTH && r.output.includes('max search depth too small') ? panOnce(dir, [`-m${DEPTH}`, ...args]) : r;
};

/**
 * Compiles and runs a Promela model exhaustively: pan with -DNOREDUCE (no
 * partial-order reduction, so every interleaving's state is stored), full state
 * storage (no bitstate), -DSAFETY (no cycle search), -DNOCLAIM (the model's ltl
 * claims left out: the states are the system's alone), a deep search bound, and a
 * hash table of 2^hashBits slots (size it to the state count: too big costs time to allocate).
 */
export function runSpin(promela: string, options: SpinOptions = {}): SpinRun {
  return withPan(promela, ['-DSAFETY', '-DNOCLAIM', `-DMEMLIM=${options.memoryMb ?? 8192}`], options, (dir, compileSeconds) => {
    const r = pan(dir, [`-w${options.hashBits ?? 24}`], options.maxDepth);
    return parse(r.output, compileSeconds, r.seconds);
  });
}

/** Compiles a model once and checks each named ltl claim in its own pan run (`pan -a -N <claim>`: acceptance cycles too). */
export function runSpinClaims(promela: string, claims: readonly string[], options: SpinOptions = {}): Record<string, SpinRun> {
  return withPan(promela, [`-DMEMLIM=${options.memoryMb ?? 8192}`], options, (dir, compileSeconds) =>
    Object.fromEntries(
      claims.map((c) => {
        const r = pan(dir, ['-a', `-w${options.hashBits ?? 20}`, '-N', c], options.maxDepth);
        return [c, parse(r.output, compileSeconds, r.seconds)];
      }),
    ),
  );
}
