import type { Command } from 'commander';
import { suites } from '../../bench/suites.js';
import type { BenchResult } from '../../bench/result.js';
import { failUsage } from './usage-error.js';

function printTable(r: BenchResult): void {
  const out = process.stdout;
  out.write(`suite ${r.suite} on ${r.machine}\n`);
  for (const run of r.runs) {
    out.write(`  ${run.name.padEnd(36)} ${run.opsPerSec.toFixed(0).padStart(9)} ops/s   p50 ${run.p50Ms.toFixed(2).padStart(8)} ms   p99 ${run.p99Ms.toFixed(2).padStart(8)} ms\n`);
  }
  for (const [k, v] of Object.entries(r.ratios)) out.write(`  ratio ${k} = ${v.toFixed(2)} (above 1: ordo ahead)\n`);
  for (const n of r.notes ?? []) out.write(`  note: ${n}\n`);
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark suite beside its reference in the same run')
    .argument('<suite>', 'suite name (see `ordo bench list`)')
    .option('--json', 'print one JSON object')
    .option('--scale <n>', 'size factor (1 = default)', '1')
    .option('--postgres <url>', 'PostgreSQL server for the reference and server runs', process.env['ORDO_BENCH_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    .action(async (name: string, opts: { json?: boolean; scale: string; postgres: string }) => {
      if (name === 'list') {
        for (const [k, s] of Object.entries(suites)) process.stdout.write(`${k.padEnd(12)} ${s.describe}\n`);
        return;
      }
      const suite = suites[name];
      if (!suite) return failUsage(`unknown bench suite "${name}"; known: ${Object.keys(suites).join(', ') || '(none yet)'}`);
      const scale = Number(opts.scale);
      if (!Number.isFinite(scale) || scale <= 0) return failUsage(`--scale must be a positive number, got "${opts.scale}"`);
      const run = await suite.load().catch((err: NodeJS.ErrnoException) => {
        // A suite's peer (DBOS Transact for `saga`) is a dev dependency: an installed ordo may not have it.
        const missing = err.code === 'ERR_MODULE_NOT_FOUND' ? /Cannot find (?:package|module) '([^'./][^']*)'/.exec(err.message)?.[1] : undefined;
        if (missing) return failUsage(`bench ${name} needs ${missing}, which is not installed here (it is a development dependency of ordo): npm install --no-save ${missing}`);
        throw err;
      });
      const result = await run({ scale, postgresUrl: opts.postgres });
      if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
      else printTable(result);
    });
}
