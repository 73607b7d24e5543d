import type { Command } from 'commander';
import { migrateEventsourcing, rebuildProjection, UnknownProjectionError, type Projection, type RebuildProgress } from '../eventsourcing/index.js';
import { orderViewProjection } from '../shop/index.js';
import { openPglite, openPostgres, type Db } from '../store/index.js';
import { failUsage } from './usage-error.js';

/** The read models `ordo projections` can name. */
const projections: Readonly<Record<string, Projection>> = { [orderViewProjection.name]: orderViewProjection };

interface DbFlags {
  postgres?: string;
  dataDir?: string;
}

async function openDb(flags: DbFlags): Promise<Db> {
  if (flags.postgres && flags.dataDir) return failUsage('give either --postgres or --data-dir, not both');
  if (!flags.postgres && !flags.dataDir) return failUsage("give the service's database: --postgres URL or --data-dir DIR (embedded PGlite)");
  const db = flags.postgres ? openPostgres({ url: flags.postgres, max: 2, applicationName: 'ordo-projections' }) : await openPglite({ dataDir: flags.dataDir ?? '' });
  const log = await db.query<{ t: string | null }>(`SELECT to_regclass('ordo_messages')::text AS t`);
  if (log.rows[0]?.t == null) {
    await db.close();
    return failUsage(`${db.describe} has no message log (ordo_messages): is it a service's database?`);
  }
  return db;
}

function projectionNamed(name: string): Projection {
  const p = projections[name];
  if (!p) return failUsage(new UnknownProjectionError(name, Object.keys(projections)).message);
  return p;
}

/** A one-line bar redrawn in place on a terminal; one line per tenth otherwise (logs, CI). */
function progressPrinter(): (p: RebuildProgress) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  return (p) => {
    const total = Math.max(p.total, p.messages, 1);
    const ratio = Math.min(1, p.messages / total);
    if (tty) {
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stderr.write(`\r  ${p.phase.padEnd(8)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${p.messages}/${total} messages${p.phase === 'swapped' ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth > lastTenth || p.phase === 'swapped') {
      lastTenth = tenth;
      process.stderr.write(`  ${p.phase} ${Math.round(ratio * 100)}% (${p.messages}/${total} messages)\n`);
    }
  };
}

export function registerProjections(program: Command): void {
  const cmd = program.command('projections').description('read models fed by the message log');
  const dbOptions = (c: Command) =>
    c.option('--postgres <url>', "the service's PostgreSQL database").option('--data-dir <dir>', "the service's embedded PGlite data directory");

  dbOptions(cmd.command('list').description('the projections ordo knows, with their tables and last rebuild'))
    .option('--json', 'print one JSON object')
    .action(async (flags: DbFlags & { json?: boolean }) => {
      const db = await openDb(flags);
      try {
        await migrateEventsourcing(db);
        const out = [];
        for (const p of Object.values(projections)) {
          const r = await db.query<{ rebuilds: number; last_rebuilt_at: Date | null }>('SELECT rebuilds, last_rebuilt_at FROM ordo_projections WHERE name = $1', [p.name]);
          const row = r.rows[0];
          out.push({ name: p.name, table: p.table, rebuilds: Number(row?.rebuilds ?? 0), lastRebuiltAt: row?.last_rebuilt_at ?? null });
        }
        if (flags.json) process.stdout.write(JSON.stringify({ projections: out }) + '\n');
        else for (const p of out) process.stdout.write(`${p.name.padEnd(16)} table ${p.table.padEnd(16)} rebuilds ${p.rebuilds}${p.lastRebuiltAt ? `, last ${new Date(p.lastRebuiltAt).toISOString()}` : ''}\n`);
      } finally {
        await db.close();
      }
    });

  dbOptions(
    cmd
      .command('rebuild')
      .description('replay the log into a fresh table, then swap it in atomically (readers are never without a table)')
      .argument('<name>', `projection (${Object.keys(projections).join(', ')})`),
  )
    .option('--mode <mode>', 'how the live table is fed: auto (async if it has a checkpoint), async or inline', 'auto')
    .option('--batch-size <n>', 'messages per batch', '1000')
    .option('--json', 'print one JSON object')
    .action(async (name: string, flags: DbFlags & { mode: string; batchSize: string; json?: boolean }) => {
      const projection = projectionNamed(name);
      if (flags.mode !== 'auto' && flags.mode !== 'async' && flags.mode !== 'inline') return failUsage(`--mode must be auto, async or inline, got "${flags.mode}"`);
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) return failUsage(`--batch-size must be an integer from 1 to 100000, got "${flags.batchSize}"`);
      const db = await openDb(flags);
      try {
        await migrateEventsourcing(db);
        const started = performance.now();
        const r = await rebuildProjection(db, projection, { mode: flags.mode, batchSize, onProgress: progressPrinter() });
        const seconds = (performance.now() - started) / 1000;
        const result = { projection: r.projection, table: r.table, builtAs: r.builtAs, mode: r.mode, messages: r.messages, seconds: Number(seconds.toFixed(3)) };
        if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        else process.stdout.write(`rebuilt ${r.projection}: ${r.messages} messages replayed into ${r.builtAs}, swapped in as ${r.table} (${r.mode}) in ${seconds.toFixed(1)} s\n`);
      } finally {
        await db.close();
      }
    });
}
