import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { migrateEventsourcing, rebuildProjection, UnknownProjectionError, type Projection, type RebuildProgress } from '../eventsourcing/index.js';
import { embeddedDatabases, orderViewProjection, sharedClusterDir } from '../shop/index.js';
import { openPglite, openPostgres, type Db } from '../store/index.js';
import { failUsage } from './usage-error.js';

/** The read models `ordo projections` can name. */
export const projections: Readonly<Record<string, Projection>> = { [orderViewProjection.name]: orderViewProjection };

export interface DbFlags {
  postgres?: string;
  dataDir?: string;
}

async function openDb(flags: DbFlags): Promise<Db> {
  if (flags.postgres && flags.dataDir) return failUsage('give either --postgres or --data-dir, not both');
  if (!flags.postgres && !flags.dataDir) return failUsage("give the service's database: --postgres URL or --data-dir DIR (embedded PGlite)");
  const dir = flags.dataDir ?? '';
  // An embedded shop's data directory (one cluster in <dir>/shop): its orders service's database.
  const shopCluster = !flags.postgres && existsSync(join(sharedClusterDir(dir), 'PG_VERSION'));
  const db = flags.postgres
    ? openPostgres({ url: flags.postgres, max: 2, applicationName: 'ordo-projections' })
    : shopCluster
      ? await embeddedDatabases(dir)('orders')
      : await openPglite({ dataDir: dir });
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

/** `ordo projections list` */
export async function listProjections(flags: DbFlags & { json?: boolean }): Promise<void> {
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
}

/** `ordo projections rebuild <name>` */
export async function rebuildNamedProjection(name: string, flags: DbFlags & { mode: string; batchSize: string; json?: boolean }): Promise<void> {
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
}
