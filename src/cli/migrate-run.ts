import { userInfo } from 'node:os';
import type { Db } from '../store/index.js';
import { migrateSagas, migrationPlan, sagaVersionCounts, MigrationRefusedError, migrationMachines, type VersionCount } from '../runtime/index.js';
import { machineVersions } from '../shop/index.js';
import { progressBar } from './progress-bar.js';
import { embeddedShop, openShopDatabase, storageFlagsProblem, type ShopStorageFlags } from './shop-databases.js';
import { failUsage } from './usage-error.js';

export interface MigrateCommandFlags extends ShopStorageFlags {
  machine: string;
  to: string;
  batch: string;
  dryRun?: boolean;
  json?: boolean;
}

/** The migration the flags name, or a usage error saying what exists. */
function chosenMigration(flags: MigrateCommandFlags) {
  const known = machineVersions[flags.machine];
  if (!known) return failUsage(`--machine: unknown machine "${flags.machine}"; known: ${Object.keys(machineVersions).join(', ')}`);
  const to = Number(flags.to);
  const migration = known.migrations.find((m) => m.to === to);
  if (!/^\d+$/.test(flags.to) || !migration) return failUsage(`--to: ${flags.machine} has no migration to version "${flags.to}"; known: ${known.migrations.map((m) => `v${m.from}→v${m.to}`).join(', ')}`);
  return { migration, machines: known.versions };
}

const countsLine = (counts: readonly VersionCount[], machine: string) =>
  counts
    .filter((c) => c.machine === machine)
    .map((c) => `v${c.version}: ${c.unfinished} in flight, ${c.finished} finished`)
    .join('; ') || 'no instances';

export async function runMigrateCommand(flags: MigrateCommandFlags): Promise<void> {
  const problem = storageFlagsProblem(flags);
  if (problem !== undefined) return failUsage(problem);
  const { migration, machines } = chosenMigration(flags);
  if (!/^\d+$/.test(flags.batch) || Number(flags.batch) < 1 || Number(flags.batch) > 10_000) return failUsage(`--batch must be a whole number from 1 to 10000, got "${flags.batch}"`);
  let pair;
  try {
    pair = migrationMachines(machines, migration);
  } catch (e) {
    if (e instanceof MigrationRefusedError) return failUsage(e.message);
    throw e;
  }
  const db = await openShopDatabase(flags, 'orders', embeddedShop(flags.dataDir), 'ordo-migrate');
  if (!db) return failUsage(`no orders database found (${flags.dataDir ? `under ${flags.dataDir}` : `${flags.namespace}_orders on the server`})`);
  try {
    await run(db, flags, migration, machines, pair);
  } finally {
    await db.close();
  }
}

async function run(db: Db, flags: MigrateCommandFlags, migration: Parameters<typeof migrateSagas>[1]['migration'], machines: Parameters<typeof migrateSagas>[1]['machines'], pair: ReturnType<typeof migrationMachines>): Promise<void> {
  const out = (line: string) => void (flags.json ? undefined : process.stdout.write(`${line}\n`));
  const name = `${migration.machine} v${migration.from}→v${migration.to}`;
  const before = await sagaVersionCounts(db);
  const plan = await migrationPlan(db, migration, pair.oldMachine, pair.newMachine);
  out(`${name} on ${db.describe}`);
  out(`before: ${countsLine(before, migration.machine)}`);
  for (const p of plan) out(`  ${p.state.padEnd(24)} → ${p.to.padEnd(24)} ${p.pending.padEnd(5)} ${String(p.instances).padStart(7)}`);
  if (flags.dryRun) {
    if (flags.json) process.stdout.write(JSON.stringify({ migration: name, dryRun: true, before, plan }) + '\n');
    else out(`dry run: ${plan.reduce((s, p) => s + p.instances, 0)} instance(s) would move; nothing changed. Finished instances stay on v${migration.from}.`);
    return;
  }
  const planned = plan.reduce((s, p) => s + p.instances, 0);
  const bar = flags.json ? undefined : progressBar(`  migrating`, planned);
  const report = await migrateSagas(db, {
    migration,
    machines,
    batchSize: Number(flags.batch),
    operator: `cli:${userInfo().username}`,
    onProgress: (p) => bar?.update(Math.min(p.migrated + p.failed, planned), `${p.batches} batches`),
  });
  bar?.end(`${report.migrated} moved in ${report.seconds.toFixed(1)} s`);
  const after = await sagaVersionCounts(db);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ migration: name, before, plan, report, after }) + '\n');
    return;
  }
  out(`after:  ${countsLine(after, migration.machine)}`);
  out(`run #${report.runId}: ${report.migrated} moved, ${report.failed} refused by the mapping, ${report.remaining} left on v${migration.from}; ${(report.migrated / Math.max(report.seconds, 1e-9)).toFixed(0)} instances/s`);
  for (const f of report.failures.slice(0, 20)) out(`  refused ${f.sagaId}: ${f.reason}`);
  if (report.failed > 0) process.exitCode = 1;
}
