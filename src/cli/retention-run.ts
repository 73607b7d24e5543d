import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runOutboxRetention, type RetentionReport } from '../runtime/index.js';
import { embeddedDatabases, hasPerServiceLayout, ordersRetentionRound, sharedClusterDir, type DatabaseOwner } from '../shop/index.js';
import { openPostgres, type Db } from '../store/index.js';
import { RetentionFlagError, retentionFromFlags, type RetentionCommandFlags } from './retention-flags.js';
import { failUsage } from './usage-error.js';

const SERVICES: readonly DatabaseOwner[] = ['orders', 'inventory', 'payment', 'shipping'];

/** Opens a service's database if the shop created it (never creates a server database or a cluster). */
async function openExisting(flags: RetentionCommandFlags, service: DatabaseOwner, embedded: ((owner: DatabaseOwner) => Promise<Db>) | undefined): Promise<Db | undefined> {
  let db: Db;
  if (flags.dataDir) {
    if (!embedded) return undefined;
    db = await embedded(service);
  } else {
    const url = new URL(flags.postgres ?? '');
    url.pathname = `/${flags.namespace}_${service}`;
    db = openPostgres({ url: url.toString(), max: 2, applicationName: 'ordo-retention' });
  }
  const ok = await db.query<{ t: string | null }>(`SELECT to_regclass('ordo_messages')::text AS t`).then(
    (r) => r.rows[0]?.t != null,
    () => false,
  );
  if (ok) return db;
  await db.close();
  return undefined;
}

export async function runRetentionCommand(flags: RetentionCommandFlags): Promise<void> {
  if (flags.postgres && flags.dataDir) return failUsage('give either --postgres or --data-dir, not both');
  if (!flags.postgres && !flags.dataDir) return failUsage("give the shop's storage: --postgres URL (with --namespace) or --data-dir DIR");
  if (flags.postgres && !/^postgres(ql)?:\/\//.test(flags.postgres)) return failUsage(`--postgres must be a postgres:// URL, got "${flags.postgres}"`);
  let policy;
  try {
    policy = retentionFromFlags(flags);
  } catch (e) {
    if (e instanceof RetentionFlagError) return failUsage(e.message);
    throw e;
  }
  if (policy === false) return failUsage('--retention-finished off keeps everything: nothing to run');
  const reports: Record<string, RetentionReport> = {};
  // The embedded shop's services share one cluster (closed with the last of them), so all are opened first.
  const dir = flags.dataDir;
  const embedded = dir && (hasPerServiceLayout(dir) || existsSync(join(sharedClusterDir(dir), 'PG_VERSION'))) ? embeddedDatabases(dir) : undefined;
  const dbs: [DatabaseOwner, Db][] = [];
  try {
    for (const service of SERVICES) {
      const db = await openExisting(flags, service, embedded);
      if (db) dbs.push([service, db]);
    }
    for (const [service, db] of dbs) {
      process.stderr.write(`  … ${service}: retention round on ${db.describe}\n`);
      reports[service] = service === 'orders' ? await ordersRetentionRound(db, policy) : await runOutboxRetention(db, policy);
    }
  } finally {
    for (const [, db] of dbs) await db.close();
  }
  if (Object.keys(reports).length === 0) return failUsage(`no shop database found (${flags.dataDir ? `under ${flags.dataDir}` : `${flags.namespace}_* on the server`})`);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ policy, databases: reports }) + '\n');
    return;
  }
  for (const [service, r] of Object.entries(reports)) {
    process.stdout.write(`${service.padEnd(10)} ${String(r.sagas).padStart(7)} finished orders retired (${r.held} held: a reader has not passed them), ${r.messages} log messages, ${r.inbox} inbox entries (${policy.mode}) in ${r.seconds.toFixed(1)} s\n`);
  }
}
