import type { Command } from 'commander';
import type { DbFlags } from './projections-run.js';

/** The read models of projections-run.ts, named here so `ordo --help` need not load the shop (a test keeps them equal). */
export const PROJECTION_NAMES = ['order_view'] as const;

// The work is in projections-run.ts, loaded only when one of these runs.
export function registerProjections(program: Command): void {
  const cmd = program.command('projections').description('read models fed by the message log');
  const dbOptions = (c: Command) =>
    c.option('--postgres <url>', "the service's PostgreSQL database").option('--data-dir <dir>', "the embedded shop's data directory (its orders database), or a service's PGlite data directory");

  dbOptions(cmd.command('list').description('the projections ordo knows, with their tables and last rebuild'))
    .option('--json', 'print one JSON object')
    .action(async (flags: DbFlags & { json?: boolean }) => (await import('./projections-run.js')).listProjections(flags));

  dbOptions(
    cmd
      .command('rebuild')
      .description('replay the log into a fresh table, then swap it in atomically (readers are never without a table)')
      .argument('<name>', `projection (${PROJECTION_NAMES.join(', ')})`),
  )
    .option('--mode <mode>', 'how the live table is fed: auto (async if it has a checkpoint), async or inline', 'auto')
    .option('--batch-size <n>', 'messages per batch', '1000')
    .option('--json', 'print one JSON object')
    .action(async (name: string, flags: DbFlags & { mode: string; batchSize: string; json?: boolean }) => (await import('./projections-run.js')).rebuildNamedProjection(name, flags));
}
