import type { Command } from 'commander';
import { addRetentionFlags, type RetentionCommandFlags } from './retention-flags.js';

// The work is in retention-run.ts, loaded only when the command runs.
export function registerRetention(program: Command): void {
  addRetentionFlags(
    program
      .command('retention')
      .description("run one retention round now on the shop's databases: finished orders to the archive (or away), old inbox entries, idempotency keys and published reports")
      .option('--postgres <url>', 'the PostgreSQL server the shop runs on (its databases <namespace>_orders, …)')
      .option('--namespace <name>', 'prefix of the server databases', 'ordo')
      .option('--data-dir <dir>', 'the embedded shop\'s data directory (stop the shop first: PGlite has one connection)')
      .option('--json', 'print one JSON object'),
  ).action(async (flags: RetentionCommandFlags) => (await import('./retention-run.js')).runRetentionCommand(flags));
}
