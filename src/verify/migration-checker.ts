import { migrationViolations } from '../machine/index.js';
import { ModelOptionsError } from './errors.js';
import type { SystemDefinition, SystemInvariant, SystemLiveness, SystemRunOptions, SystemStateView, VersionedSystem } from './system-definition.js';
import { checkModel, type CheckOptions, type SystemCheckResult } from './system-checker.js';
import { SystemModel } from './system-model.js';
import type { BoundView } from './system-view.js';

export const MIGRATION_APPLIES = 'MigrationApplies';
export const EVENTUALLY_TERMINATES = 'EventuallyTerminates';

export interface MigrationCheckResult extends SystemCheckResult {
  readonly migration: { readonly machine: string; readonly from: number; readonly to: number; readonly description?: string };
  /** What is wrong with the migration as data (`migrationViolations`): when not empty, nothing was explored. */
  readonly refused: readonly string[];
}

const some = (v: SystemStateView, f: (i: number) => boolean) => {
  for (let i = 0; i < v.keys; i++) if (f(i)) return true;
  return false;
};

/** Parses `v1→v2`, `v1->v2`, `1:2` (and `1→2`): the versions a migration goes between. */
export function parseMigrationFlag(raw: string): { from: number; to: number } {
  const m = /^\s*v?(\d+)\s*(?:→|->|:)\s*v?(\d+)\s*$/i.exec(raw);
  if (!m) throw new ModelOptionsError('migration', `expected v1→v2, v1->v2 or 1:2, got "${raw}"`);
  return { from: Number(m[1]), to: Number(m[2]) };
}

/**
 * Checks a live migration of a running system: every key starts under the old version and
 * may migrate (`migrateSnapshot`), once, at any reachable unfinished state (its parked replies
 * are then retried under the new version, as the runtime does), while messages in flight
 * and the participants' states stay as they are; from then on it follows the new version.
 * The migrator is a fair actor: on fair paths every unfinished key ends migrated, provided it
 * can be (MigrationApplies: no reachable instance whose context fails to upcast). Checked: the
 * new version's invariants and liveness properties, NoStrandedMessages, EventuallyTerminates
 * and ValidStateTransitions —
 * after `migrationViolations`, which refuses a mapping that is wrong as data before any
 * exploration. A counterexample is the old history, the migrate step and the new continuation.
 */
export function checkMigration(system: VersionedSystem, between: { from: number; to: number }, run: SystemRunOptions, check: CheckOptions = {}): MigrationCheckResult {
  const { from, to } = between;
  const known = Object.keys(system.versions).join(', ');
  const oldDef = system.versions[from];
  const newDef = system.versions[to];
  if (!oldDef || !newDef) throw new ModelOptionsError('migration', `${system.name} has versions ${known}; no v${from} and v${to}`);
  const migration = system.migrations.find((m) => m.from === from && m.to === to);
  if (!migration) throw new ModelOptionsError('migration', `${system.name} declares no migration v${from}→v${to} (it has ${system.migrations.map((m) => `v${m.from}→v${m.to}`).join(', ') || 'none'})`);
  const about = { machine: migration.machine, from, to, ...(migration.description === undefined ? {} : { description: migration.description }) };
  const refused = migrationViolations(migration, oldDef.machine, newDef.machine);
  if (refused.length > 0) {
    return { model: system.name, keys: run.keys, faults: run.faults ?? {}, symmetry: run.symmetry ?? false, states: 0, transitions: 0, depth: 0, properties: [], violations: [], migration: about, refused };
  }
  const applies: SystemInvariant = {
    name: MIGRATION_APPLIES,
    description: `every unfinished instance v${from} reaches can be moved to v${to} (its context upcasts and validates)`,
    // The checker's own view: it knows which local states the migration could not move.
    holds: (v) => !some(v, (i) => (v as unknown as BoundView).cannotMigrate(i)),
  };
  const terminates: SystemLiveness = { name: EVENTUALLY_TERMINATES, description: 'every key reaches a final state', pending: (v) => some(v, (i) => !v.final(i)), premise: () => true };
  const liveness = [...newDef.liveness, ...(newDef.liveness.some((l) => l.name === EVENTUALLY_TERMINATES) ? [] : [terminates])];
  const definition: SystemDefinition = { ...newDef, invariants: [applies, ...newDef.invariants], liveness };
  const result = checkModel(new SystemModel(definition, run, { from: oldDef, migration }), check);
  return { ...result, migration: about, refused: [] };
}
