import type { Command } from 'commander';
import type { MigrateCommandFlags } from './migrate-run.js';

// The work is in migrate-run.ts, loaded only when the command runs.
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("move the shop's in-flight orders to a new version of their machine, in batches, while the shop runs (deploy the new version first: ordo start --order-machine 2)")
    .option('--postgres <url>', 'the PostgreSQL server the shop runs on (its orders database <namespace>_orders)')
    .option('--namespace <name>', 'prefix of the server databases', 'ordo')
    .option('--data-dir <dir>', "the embedded shop's data directory (stop the shop first: PGlite has one connection)")
    .option('--machine <id>', 'the machine whose instances move', 'order')
    .option('--to <version>', 'the version they move to (from the one before it)', '2')
    .option('--batch <n>', 'instances per transaction', '200')
    .option('--dry-run', 'print what would move, per state, and change nothing')
    .option('--json', 'print one JSON object')
    .action(async (flags: MigrateCommandFlags) => (await import('./migrate-run.js')).runMigrateCommand(flags));
}
