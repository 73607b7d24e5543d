import { migrateSnapshot, type TransitionResult } from '../machine/index.js';
import { MIGRATED, migrationData } from '../eventsourcing/index.js';
import { leaveState, performEffects, type ApplyContext } from './apply-event.js';
import type { BatchContext } from './batch-context.js';
import { MachineVersionMissingError, SagaNotFoundError } from './errors.js';
import type { AnyMachine } from './machine-registry.js';
import type { WorkItem, WorkResult } from './work-item.js';
import { WorkingInstance } from './working-instance.js';

/**
 * Makes a migration's result part of the instance, as a transition's is: its timeline gets
 * an `ordo.migrated` record (old and new version, state, mode, the new snapshot) and its
 * effects are performed on the same write path (timers cancelled and armed, an entered
 * state's commands and events appended to the stream, i.e. the outbox). An `await`ed state
 * keeps the commands it is waiting for (their resends and reply timeouts go on); an
 * `enter`ed one starts over, as after any transition.
 */
export function recordMigration(w: WorkingInstance, machine: AnyMachine, r: TransitionResult, mode: 'await' | 'enter', ctx: ApplyContext): void {
  const before = w.snapshot;
  const data = migrationData(before, r, mode);
  const rev = w.appendTimeline(MIGRATED, { ...data }, { causationId: `migration:${w.machineId}:v${data.fromVersion}-v${data.toVersion}` });
  w.snapshot = r.snapshot;
  const stays = mode === 'await' && before.state === r.snapshot.state;
  if (!stays) leaveState(w);
  const parked = w.status === 'parked';
  performEffects(w, machine, r, rev, { type: MIGRATED }, ctx, before.state);
  // Parked for a reason of its own (a step never answered, a failure the machine cannot take):
  // still so under the new version, with its alert open, until an operator acts.
  if (stays && parked && w.status === 'active') w.status = 'parked';
}

/**
 * One instance of a migration batch: still on the migration's old version and unfinished
 * (it is locked, so nothing moves it meanwhile) → a working copy on the new version
 * replaces the old one in the batch, so the batch writes it (version included) and
 * retries its parked messages under the new version. Otherwise `stale` (moved on, or
 * finished). A mapping that throws for it (a context the new version rejects) rejects
 * only this instance.
 */
export function applyMigration(b: BatchContext, item: Extract<WorkItem, { kind: 'migrate' }>): WorkResult {
  const old = b.instance(item.sagaId);
  if (!old) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
  const m = item.migration;
  if (old.machineId !== m.machine || old.machineVersion !== m.from || old.status === 'final' || old.dirty) return { status: 'stale', sagaId: old.id, state: old.snapshot.state };
  try {
    const from = b.machineOf(old);
    const to = b.deps.registry.get(m.machine, m.to);
    if (!to) throw new MachineVersionMissingError([{ machine: m.machine, version: m.to, instances: 1 }]);
    const r = migrateSnapshot(m, from, to, old.snapshot);
    const w = new WorkingInstance(old.id, old.machineId, to.version, old.loaded, old.snapshot);
    w.status = old.status;
    recordMigration(w, to, r, r.pending, b.deps.apply);
    b.working.set(w.id, w);
    return { status: 'applied', sagaId: w.id, state: w.snapshot.state, changed: true };
  } catch (err) {
    return { status: 'rejected', error: err as Error };
  }
}
