import { mappingOf, type MachineMigration } from '../machine/index.js';
import type { Queryable } from '../store/index.js';
import type { AnyMachine } from './machine-registry.js';

/*
 * The SQL of live migrations (saga-migration.ts): which instances are still to move, the
 * audit record of each run, and the counts an operator looks at before and after.
 */

/** Instances of one machine version, unfinished and finished. */
export interface VersionCount {
  readonly machine: string;
  readonly version: number;
  readonly unfinished: number;
  readonly finished: number;
}

/** Instances per machine and version (the dashboard's and `ordo migrate`'s before/after). */
export async function sagaVersionCounts(q: Queryable): Promise<VersionCount[]> {
  const r = await q.query<{ machine_id: string; machine_version: number; unfinished: string; finished: string }>(
    `SELECT machine_id, machine_version, count(*) FILTER (WHERE status <> 'final')::text AS unfinished, count(*) FILTER (WHERE status = 'final')::text AS finished
       FROM ordo_saga_instances GROUP BY machine_id, machine_version ORDER BY 1, 2`,
  );
  return r.rows.map((row) => ({ machine: row.machine_id, version: Number(row.machine_version), unfinished: Number(row.unfinished), finished: Number(row.finished) }));
}

/** Where each state's unfinished instances would go (a dry run). */
export interface PlannedMove {
  readonly state: string;
  readonly to: string;
  readonly pending: 'await' | 'enter';
  readonly instances: number;
}

export async function migrationPlan(q: Queryable, migration: MachineMigration<never, unknown>, oldMachine: AnyMachine, newMachine: AnyMachine): Promise<PlannedMove[]> {
  const r = await q.query<{ state: string; n: string }>(
    `SELECT state, count(*)::text AS n FROM ordo_saga_instances WHERE machine_id = $1 AND machine_version = $2 AND status <> 'final' GROUP BY state ORDER BY state`,
    [migration.machine, migration.from],
  );
  return r.rows.map((row) => {
    const m = mappingOf(migration, oldMachine, newMachine, row.state);
    return { state: row.state, to: m.to, pending: m.pending, instances: Number(row.n) };
  });
}

/** Unfinished instances still on the migration's old version, not counting `except`. */
export async function countToMigrate(q: Queryable, migration: MachineMigration<never, unknown>, except: readonly string[] = [], only?: readonly string[]): Promise<number> {
  const r = await q.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ordo_saga_instances WHERE machine_id = $1 AND machine_version = $2 AND status <> 'final' AND NOT (id = ANY($3::text[]))
       AND ($4::text[] IS NULL OR id = ANY($4::text[]))`,
    [migration.machine, migration.from, [...except], only ? [...only] : null],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Locks the next `limit` instances to move, in id order (the engine's lock order). SKIP
 * LOCKED: those an engine batch holds are passed over (the engine keeps working; they are
 * taken by a later batch once it lets go).
 */
export async function claimToMigrate(tx: Queryable, migration: MachineMigration<never, unknown>, limit: number, except: readonly string[], only?: readonly string[]): Promise<string[]> {
  const r = await tx.query<{ id: string }>(
    `SELECT id FROM ordo_saga_instances WHERE machine_id = $1 AND machine_version = $2 AND status <> 'final' AND NOT (id = ANY($4::text[]))
       AND ($5::text[] IS NULL OR id = ANY($5::text[]))
       ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [migration.machine, migration.from, limit, [...except], only ? [...only] : null],
  );
  return r.rows.map((row) => row.id);
}

export async function insertRun(q: Queryable, migration: MachineMigration<never, unknown>, operator: string, planned: number): Promise<string> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO ordo_saga_migration_runs (machine_id, from_version, to_version, operator, status, planned) VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id::text AS id`,
    [migration.machine, migration.from, migration.to, operator, planned],
  );
  return r.rows[0]?.id ?? '';
}

/** Counts one batch into its run, in the batch's own transaction (a crash loses neither or both). */
export async function countBatch(tx: Queryable, runId: string, migrated: number, failed: number): Promise<void> {
  await tx.query(`UPDATE ordo_saga_migration_runs SET migrated = migrated + $2, failed = failed + $3, batches = batches + 1, updated_at = now() WHERE id = $1`, [runId, migrated, failed]);
}

export async function endRun(q: Queryable, runId: string, status: 'finished' | 'failed' | 'aborted', error: string | null): Promise<void> {
  await q.query(`UPDATE ordo_saga_migration_runs SET status = $2, error = $3, updated_at = now(), finished_at = now() WHERE id = $1`, [runId, status, error]);
}

export interface MigrationRun {
  readonly id: string;
  readonly machine: string;
  readonly from: number;
  readonly to: number;
  readonly operator: string;
  readonly status: 'running' | 'finished' | 'failed' | 'aborted';
  readonly planned: number;
  readonly migrated: number;
  readonly failed: number;
  readonly batches: number;
  readonly error: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** The audit record: the latest runs first. */
export async function listMigrationRuns(q: Queryable, limit = 20): Promise<MigrationRun[]> {
  const r = await q.query<Record<string, unknown>>(
    `SELECT id::text AS id, machine_id, from_version, to_version, operator, status, planned, migrated, failed, batches, error, started_at::text AS started_at, finished_at::text AS finished_at
       FROM ordo_saga_migration_runs ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return r.rows.map((row) => ({
    id: String(row['id']),
    machine: String(row['machine_id']),
    from: Number(row['from_version']),
    to: Number(row['to_version']),
    operator: String(row['operator']),
    status: row['status'] as MigrationRun['status'],
    planned: Number(row['planned']),
    migrated: Number(row['migrated']),
    failed: Number(row['failed']),
    batches: Number(row['batches']),
    error: (row['error'] as string | null) ?? null,
    startedAt: String(row['started_at']),
    finishedAt: (row['finished_at'] as string | null) ?? null,
  }));
}
