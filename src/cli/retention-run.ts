import type { RetentionReport } from '../runtime/index.js';
import { ordersRetentionRound, serviceRetentionRound, type DatabaseOwner } from '../shop/index.js';
import type { Db } from '../store/index.js';
import { embeddedShop, openShopDatabase, storageFlagsProblem } from './shop-databases.js';
import { RetentionFlagError, retentionFromFlags, type RetentionCommandFlags } from './retention-flags.js';
import { failUsage } from './usage-error.js';

const SERVICES: readonly DatabaseOwner[] = ['orders', 'inventory', 'payment', 'shipping'];

export async function runRetentionCommand(flags: RetentionCommandFlags): Promise<void> {
  const problem = storageFlagsProblem(flags);
  if (problem !== undefined) return failUsage(problem);
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
  const embedded = embeddedShop(flags.dataDir);
  const dbs: [DatabaseOwner, Db][] = [];
  try {
    for (const service of SERVICES) {
      const db = await openShopDatabase(flags, service, embedded, 'ordo-retention');
      if (db) dbs.push([service, db]);
    }
    for (const [service, db] of dbs) {
      process.stderr.write(`  … ${service}: retention round on ${db.describe}\n`);
      reports[service] = service === 'orders' ? await ordersRetentionRound(db, policy) : await serviceRetentionRound(service, db, policy);
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
    process.stdout.write(`${service.padEnd(10)} ${String(r.sagas).padStart(7)} finished orders retired (${r.held} held: a reader has not passed them), ${r.messages} log messages, ${r.inbox} inbox entries (${policy.mode})${r.vacuumed.length > 0 ? `, vacuumed ${r.vacuumed.join(', ')}` : ''} in ${r.seconds.toFixed(1)} s\n`);
  }
}
