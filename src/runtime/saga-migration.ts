import { migrationViolations, OrdoError, type MachineMigration } from '../machine/index.js';
import { migrate, type Db, type StructuredLogger } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import { InvalidEngineOptionError } from './errors.js';
import { createMachineRegistry, type AnyMachine, type MachineRegistry } from './machine-registry.js';
import { processBatch, type BatchDeps } from './process-batch.js';
import { RUNTIME_MIGRATION_SCOPE, runtimeMigrations } from './runtime-migrations.js';
import { checkRetryPolicy, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { claimToMigrate, countBatch, countToMigrate, endRun, insertRun } from './saga-migration-sql.js';
import type { TopicMapping } from './topics.js';
import { withConflictRetry } from './transaction-retry.js';

/*
 * Live migration of in-flight sagas: unfinished instances of `machine@from` move to `to` in
 * batches, each batch one transaction through the engine's own batch pipeline (lock, map
 * with migrateSnapshot, write snapshot + version + timeline + effects, retry parked
 * messages under the new version). Finished instances stay on the old version: their
 * history happened there, nothing runs them again, and the engine only needs the versions
 * of unfinished instances (so the old version can be undeployed afterwards).
 */

export interface MigrateSagasOptions {
  readonly migration: MachineMigration<never, unknown>;
  /** Both versions (and any others) as the engine has them. */
  readonly machines: readonly AnyMachine[];
  /** Instances per transaction (default 200). */
  readonly batchSize?: number;
  /** Only these instances (e.g. the replay harness's one saga); default every unfinished one on `from`. */
  readonly sagaIds?: readonly string[];
  /** Called after each committed batch; a throw stops the run there (what is committed stays, a rerun continues). */
  readonly onProgress?: (p: MigrationProgress) => void | Promise<void>;
  readonly signal?: AbortSignal;
  /** Who runs it, for the audit record (default `ordo`). */
  readonly operator?: string;
  /** As the engine's options (the effects of an entered state are written as the engine writes them). */
  readonly streamOf?: (machineId: string, sagaId: string) => string;
  readonly topics?: TopicMapping;
  readonly retry?: Partial<RetryPolicy>;
  readonly clock?: Clock;
  readonly consumer?: string;
  /** How long to wait before looking again when every instance left is held by an engine batch (default 20 ms). */
  readonly heldRetryMs?: number;
  readonly logger?: StructuredLogger;
}

export interface MigrationProgress {
  readonly runId: string;
  readonly planned: number;
  readonly migrated: number;
  readonly failed: number;
  readonly batches: number;
}

export interface MigrationReport extends MigrationProgress {
  readonly machine: string;
  readonly from: number;
  readonly to: number;
  readonly status: 'finished' | 'aborted';
  /** Instances the mapping refused (left on the old version), with the reason. */
  readonly failures: readonly { readonly sagaId: string; readonly reason: string }[];
  /** Still on the old version and unfinished when the run ended (0 when finished, but for failures). */
  readonly remaining: number;
  readonly seconds: number;
}

/** The migration cannot be applied as declared; nothing was touched. */
export class MigrationRefusedError extends OrdoError {
  readonly code = 'MIGRATION_REFUSED';
  readonly retryable = false;
  constructor(readonly migration: string, readonly violations: readonly string[]) {
    super(`refusing to migrate ${migration}:\n  - ${violations.join('\n  - ')}`);
  }
}

const label = (m: MachineMigration<never, unknown>) => `${m.machine} v${m.from}→v${m.to}`;

/** Both machines of a migration from the registry, or a clear refusal (a version missing, a mapping that is wrong as data). */
export function checkMigration(registry: MachineRegistry, migration: MachineMigration<never, unknown>): { oldMachine: AnyMachine; newMachine: AnyMachine } {
  const oldMachine = registry.get(migration.machine, migration.from);
  const newMachine = registry.get(migration.machine, migration.to);
  if (!oldMachine || !newMachine) {
    const missing = [oldMachine ? undefined : migration.from, newMachine ? undefined : migration.to].filter((v) => v !== undefined);
    throw new MigrationRefusedError(label(migration), missing.map((v) => `version ${v} of ${migration.machine} is not among the machines given`));
  }
  const violations = migrationViolations(migration, oldMachine, newMachine);
  if (violations.length > 0) throw new MigrationRefusedError(label(migration), violations);
  return { oldMachine, newMachine };
}

/** checkMigration over a list of machines (as `migrateSagas` takes them). */
export function migrationMachines(machines: readonly AnyMachine[], migration: MachineMigration<never, unknown>): { oldMachine: AnyMachine; newMachine: AnyMachine } {
  return checkMigration(createMachineRegistry(machines), migration);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Moves the unfinished instances of `migration.machine@from` to `to`, batch by batch, and
 * records the run (`ordo_saga_migration_runs`). Idempotent: a run stopped anywhere (crash,
 * abort, a throwing onProgress) leaves only whole batches behind, and running it again
 * moves what is still on `from`.
 */
export async function migrateSagas(db: Db, options: MigrateSagasOptions): Promise<MigrationReport> {
  const { migration } = options;
  const registry = createMachineRegistry(options.machines);
  checkMigration(registry, migration);
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidEngineOptionError('batchSize', 'must be a positive integer');
  const retry = checkRetryPolicy({ ...defaultRetryPolicy, ...options.retry });
  const clock = options.clock ?? systemClock;
  const deps = (): BatchDeps => ({
    registry,
    consumer: options.consumer ?? 'ordo-saga-engine',
    streamOf: options.streamOf ?? ((machineId, sagaId) => `${machineId}-${sagaId}`),
    apply: { now: clock.now(), retry, random: Math.random, topics: options.topics ?? {} },
  });
  const began = performance.now();
  // The audit table is the engine's migration 3: a database whose engine has not restarted since may lack it.
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
  const planned = await countToMigrate(db, migration, [], options.sagaIds);
  const runId = await insertRun(db, migration, options.operator ?? 'ordo', planned);
  options.logger?.info({ runId, migration: label(migration), planned }, 'saga migration started');
  const failures: { sagaId: string; reason: string }[] = [];
  let migrated = 0;
  let batches = 0;
  const failedIds = () => failures.map((f) => f.sagaId);
  try {
    while (!options.signal?.aborted) {
      const moved = await withConflictRetry(() =>
        db.transaction(async (tx) => {
          const ids = await claimToMigrate(tx, migration, batchSize, failedIds(), options.sagaIds);
          if (ids.length === 0) return undefined;
          const results = await processBatch(tx, ids.map((sagaId) => ({ kind: 'migrate', sagaId, migration })), deps());
          const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ sagaId: ids[i] ?? '', reason: r.error.message }] : []));
          const applied = results.filter((r) => r.status === 'applied').length;
          await countBatch(tx, runId, applied, refused.length);
          return { applied, refused };
        }),
      );
      if (moved === undefined) {
        // Nothing free: done, or what is left is held by engine batches for a moment.
        if ((await countToMigrate(db, migration, failedIds(), options.sagaIds)) === 0) break;
        await sleep(options.heldRetryMs ?? 20);
        continue;
      }
      migrated += moved.applied;
      failures.push(...moved.refused);
      batches += 1;
      for (const f of moved.refused) options.logger?.warn({ runId, sagaId: f.sagaId, reason: f.reason }, 'saga migration refused an instance; it stays on the old version');
      await options.onProgress?.({ runId, planned, migrated, failed: failures.length, batches });
    }
  } catch (err) {
    await endRun(db, runId, 'failed', err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
  const status = options.signal?.aborted ? 'aborted' : 'finished';
  await endRun(db, runId, status, failures.length > 0 ? `${failures.length} instance(s) refused by the mapping` : null);
  const remaining = await countToMigrate(db, migration, [], options.sagaIds);
  const report: MigrationReport = { runId, machine: migration.machine, from: migration.from, to: migration.to, status, planned, migrated, failed: failures.length, batches, failures, remaining, seconds: (performance.now() - began) / 1000 };
  options.logger?.info({ runId, migration: label(migration), migrated, failed: failures.length, remaining, seconds: report.seconds, status }, 'saga migration ended');
  return report;
}

/** Runs migrations one after the other (an engine's `migrateOnStart`), each batch's progress logged. */
export async function migrateAll(db: Db, migrations: readonly MachineMigration<never, unknown>[], options: Omit<MigrateSagasOptions, 'migration' | 'onProgress'>): Promise<MigrationReport[]> {
  const reports: MigrationReport[] = [];
  for (const migration of migrations) {
    const onProgress = (p: MigrationProgress) => options.logger?.info({ migration: label(migration), ...p }, 'saga migration progress');
    reports.push(await migrateSagas(db, { ...options, migration, onProgress }));
  }
  return reports;
}
