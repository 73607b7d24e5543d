import { InvalidEventError, MigrationError } from './errors.js';
import { placeInState } from './transition.js';
import type { Machine, Snapshot, TransitionResult } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/**
 * Where one state of the old version goes. `await` (the default when the state keeps its
 * name and its saga step): the command the old version sent is exactly what the new state
 * waits for, so nothing is sent again. `enter`: the instance enters the new state as if a
 * transition led there (its command is sent, its entry effects run); whatever the old
 * version had in flight is then answered into the new state, which must accept or ignore it.
 */
export interface StateMapping {
  readonly to: string;
  readonly pending?: 'await' | 'enter';
}

/**
 * A live migration from machine version `from` to `to`, as data: a total mapping of the
 * old version's states and a context upcaster. Declared beside the new machine; the checker
 * proves it (`ordo verify <system> --migration v1→v2`) before `ordo migrate` applies it.
 */
export interface MachineMigration<C1 = unknown, C2 = unknown> {
  readonly machine: string;
  readonly from: number;
  readonly to: number;
  readonly description?: string;
  readonly states: Readonly<Record<string, string | StateMapping>>;
  readonly context?: (context: C1) => C2;
}

/** The mapping of one state, with its default filled in. */
export function mappingOf(migration: MachineMigration<never, unknown>, oldMachine: AnyMachine, newMachine: AnyMachine, state: string): Required<StateMapping> {
  const m = migration.states[state];
  if (m === undefined) throw new MigrationError(oldMachine.id, [`v${migration.from}→v${migration.to} does not map state ${state}`]);
  const to = typeof m === 'string' ? m : m.to;
  const explicit = typeof m === 'string' ? undefined : m.pending;
  const sameWork = oldMachine.states[state]?.invoke === newMachine.states[to]?.invoke && oldMachine.states[state]?.compensate === newMachine.states[to]?.compensate;
  return { to, pending: explicit ?? (sameWork ? 'await' : 'enter') };
}

/**
 * What is wrong with a migration as data (empty when nothing): it must name both
 * versions of the same machine, map every old state to a state of the new one, keep
 * final states final, and every saga step an instance may have started must still
 * exist in the new version (its compensation would be lost otherwise).
 */
export function migrationViolations(migration: MachineMigration<never, unknown>, oldMachine: AnyMachine, newMachine: AnyMachine): string[] {
  const out: string[] = [];
  if (oldMachine.id !== migration.machine || newMachine.id !== migration.machine) out.push(`migration is for ${migration.machine}, machines are ${oldMachine.id} and ${newMachine.id}`);
  if (oldMachine.version !== migration.from || newMachine.version !== migration.to) out.push(`migration is v${migration.from}→v${migration.to}, machines are v${oldMachine.version} and v${newMachine.version}`);
  for (const s of Object.keys(migration.states)) if (!(s in oldMachine.states)) out.push(`maps ${s}, which v${migration.from} does not have`);
  for (const s of oldMachine.stateNames) {
    const m = migration.states[s];
    if (m === undefined) {
      out.push(`does not map ${s}`);
      continue;
    }
    const to = typeof m === 'string' ? m : m.to;
    const target = newMachine.states[to];
    if (!target) out.push(`maps ${s} to ${to}, which v${migration.to} does not have`);
    else if (oldMachine.states[s]?.final && !target.final) out.push(`maps final state ${s} to ${to}, which is not final`);
  }
  for (const step of Object.keys(oldMachine.steps)) if (!(step in newMachine.steps)) out.push(`step ${step} of v${migration.from} is gone in v${migration.to}: instances that started it could not compensate it`);
  return out;
}

/**
 * Moves one instance to the new version: its state mapped, its context upcast (and
 * validated by the new machine's schema), its started steps kept, and the effects to
 * perform (commands of an `enter`ed state, timers to cancel and arm), and how the state was
 * taken (`pending`: await or enter, the mapping's default filled in). Pure.
 */
export function migrateSnapshot<M extends AnyMachine>(
  migration: MachineMigration<never, unknown>,
  oldMachine: AnyMachine,
  newMachine: M,
  snapshot: Snapshot,
): TransitionResult<M extends Machine<infer S, infer _E, infer _C> ? S : string, M extends Machine<infer _S, infer _E, infer C> ? C : unknown> & { readonly pending: 'await' | 'enter' } {
  if (snapshot.machine !== migration.machine || snapshot.version !== migration.from) throw new MigrationError(migration.machine, [`snapshot is ${snapshot.machine}@v${snapshot.version}, migration is from v${migration.from}`]);
  const { to, pending } = mappingOf(migration, oldMachine, newMachine, snapshot.state);
  const upcast = migration.context ? migration.context(snapshot.context as never) : snapshot.context;
  const parsed = newMachine.contextSchema.safeParse(upcast);
  if (!parsed.success) throw new InvalidEventError(newMachine.id, 'context', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return { ...placeInState(newMachine, snapshot, to, parsed.data, snapshot.steps, pending), pending };
}
