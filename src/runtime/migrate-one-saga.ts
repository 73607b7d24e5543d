import { migrateSnapshot, type Machine, type MachineMigration, type Snapshot } from '../machine/index.js';
import type { Db } from '../store/index.js';
import { recordTransition } from './apply-event.js';
import { writeBatch } from './batch-writes.js';
import { lockInstances } from './instance-sql.js';
import { defaultRetryPolicy } from './retry-policy.js';
import { WorkingInstance } from './working-instance.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/** One live migration: the mapping and both versions of the machine. */
export interface OneSagaMigration {
  readonly migration: MachineMigration<never, unknown>;
  readonly from: AnyMachine;
  readonly to: AnyMachine;
}

/**
 * Migrates one saga in the instance store: in one transaction, the row locked,
 * `migrateSnapshot` applied, its effects recorded by the engine's own `recordTransition`
 * (commands into the saga's stream, timers), the row written by the engine's batch writer
 * and moved to the new version. For the replay harness's migrate step (one saga, default
 * streams, topics and retry policy). It does not retry the saga's parked messages; the
 * runtime's batched migration (`ordo migrate`) is the production path.
 */
export async function migrateOneSaga(db: Db, sagaId: string, m: OneSagaMigration, now: number): Promise<string> {
  return db.transaction(async (tx) => {
    const row = (await lockInstances(tx, [sagaId])).get(sagaId);
    if (!row) throw new Error(`no saga ${sagaId} to migrate`);
    if (row.machine_version !== m.from.version) return `skipped (already v${row.machine_version})`;
    const snapshot: Snapshot = row.snapshot;
    const w = new WorkingInstance(row.id, row.machine_id, m.to.version, row, snapshot);
    recordTransition(w, m.to, migrateSnapshot(m.migration, m.from, m.to, snapshot), { type: 'ordo.migrate' }, { now, retry: defaultRetryPolicy, random: () => 0.5, topics: {} });
    await writeBatch(tx, [w], (machineId, id) => `${machineId}-${id}`);
    await tx.query('UPDATE ordo_saga_instances SET machine_version = $2 WHERE id = $1', [sagaId, m.to.version]);
    return `migrated to v${m.to.version} (${w.snapshot.state})`;
  });
}
