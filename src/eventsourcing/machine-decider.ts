import {
  InvalidTransitionError,
  start,
  transition,
  type ContextOf,
  type EventOfMachine,
  type Machine,
  type Snapshot,
  type SnapshotOf,
  type TimerEvent,
  type TransitionResult,
  type TransitionStep,
} from '../machine/index.js';
import type { Decider } from './decider.js';
import { ReplayMismatchError } from './errors.js';

/** The type of every record of a machine's timeline (the saga runtime writes the same). */
export const TRANSITION = 'ordo.transition';
/** The trigger (and command) that starts an instance; its event is `{ context }`. */
export const START = 'ordo.start';
/** The timeline record of a live migration: the instance moved to another version of its machine. */
export const MIGRATED = 'ordo.migrated';

type AnyMachine = Machine<string, { type: string }, unknown>;

export interface TransitionData {
  /** What caused it: a machine event, a timer (`ordo.timer`) or `ordo.start`. */
  readonly trigger: { readonly type: string };
  /** The trigger's payload (without `type`), enough to replay the transition; `{ context }` for a start. */
  readonly event: Readonly<Record<string, unknown>>;
  /** `null` for a start. */
  readonly from: string | null;
  readonly to: string;
  /** Every state change taken, in order (more than one when eventless transitions follow). */
  readonly path: readonly TransitionStep[];
  /** The context fields the transition changed (shallow; the whole context for a start), for read models. */
  readonly changes: Readonly<Record<string, unknown>>;
}

/** What a live migration records in the instance's stream (readers treat `from`/`to`/`changes` as a transition's). */
export interface MigrationData {
  readonly fromVersion: number;
  readonly toVersion: number;
  /** `await`: the new state waits for what the old one sent; `enter`: it was entered (its commands sent). */
  readonly mode: 'await' | 'enter';
  readonly from: string;
  readonly to: string;
  readonly path: readonly TransitionStep[];
  readonly changes: Readonly<Record<string, unknown>>;
  /** The instance as the new version holds it: replay takes it as it is (the mapping is not needed to read the stream). */
  readonly snapshot: Snapshot;
}

/** The data of a migration's timeline record (see MigrationData). */
export function migrationData(before: Snapshot, result: TransitionResult, mode: 'await' | 'enter'): MigrationData {
  return {
    fromVersion: before.version,
    toVersion: result.snapshot.version,
    mode,
    from: before.state,
    to: result.snapshot.state,
    path: result.path,
    changes: shallowChanges(before.context, result.snapshot.context),
    snapshot: result.snapshot,
  };
}

export interface MachineRecord {
  readonly type: typeof TRANSITION;
  readonly data: TransitionData;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export type MachineCommand<M> = { readonly type: typeof START; readonly context: ContextOf<M> } | EventOfMachine<M> | TimerEvent;

/** `null` until the instance started. */
export type MachineState<M> = SnapshotOf<M> | null;

export type MachineDecider<M> = Decider<MachineState<M>, MachineCommand<M>, MachineRecord> & {
  readonly machine: M;
  /** Identifies the shape of the state, for snapshots: a new machine version invalidates old ones. */
  readonly stateSchema: string;
};

const NOT_STARTED = '(not started)';

function shallowChanges(before: unknown, after: unknown): Record<string, unknown> {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out[k] = b[k] ?? null;
  }
  return out;
}

/**
 * The data of the timeline record of one transition: what the saga runtime and the
 * event-sourced aggregate both store, so that either can replay or project the other's
 * streams. `before` is null for a start (then `input` is `{ type: 'ordo.start', context }`).
 */
export function transitionData(before: Snapshot | null, input: { readonly type: string }, result: TransitionResult): TransitionData {
  const { type, ...payload } = input as { type: string } & Record<string, unknown>;
  return {
    trigger: { type },
    event: payload,
    from: before === null ? null : before.state,
    to: result.snapshot.state,
    path: result.path,
    changes: shallowChanges(before?.context, result.snapshot.context),
  };
}

/**
 * A machine as a decider: commands are machine events (plus `ordo.start`), events are the
 * recorded transitions, and both `decide` and `evolve` run the machine's own transition
 * function, so the aggregate never restates its rules. A command the current state does
 * not accept throws the machine's InvalidTransitionError; one it accepts and ignores
 * decides no events. Replaying a transition that no longer reaches the recorded state
 * throws ReplayMismatchError.
 */
export function deciderFromMachine<M extends AnyMachine>(machine: M, options: { readonly versions?: readonly AnyMachine[] } = {}): MachineDecider<M> {
  type S = MachineState<M>;
  const m = machine as AnyMachine;
  // Older (or newer) versions of the same machine: a stream replays each record under the
  // version its instance was on (a start: the version it names; later: the snapshot's).
  const versions = new Map((options.versions ?? []).filter((v) => v.id === m.id).map((v) => [v.version, v]));
  const at = (version: unknown): AnyMachine => (typeof version === 'number' ? versions.get(version) : undefined) ?? m;
  // The same tags the saga runtime puts on its timeline records, so readers treat both alike.
  const metadata = Object.freeze({ kind: 'timeline', machine: m.id, machineVersion: m.version });

  function decide(command: MachineCommand<M>, state: S): readonly MachineRecord[] {
    if (command.type === START) {
      if (state !== null) throw new InvalidTransitionError(m.id, state.state, START, 'sent to an instance that already started');
      const r = start(m, (command as { context: unknown }).context);
      // Record the validated context (defaults applied), so replay needs nothing else.
      return [{ type: TRANSITION, data: transitionData(null, { type: START, context: r.snapshot.context } as { type: string }, r), metadata }];
    }
    if (state === null) throw new InvalidTransitionError(m.id, NOT_STARTED, command.type, 'sent before the instance started');
    const on = at((state as Snapshot).version);
    const r = transition(on, state, command as { type: string });
    if (!r.changed) return [];
    return [{ type: TRANSITION, data: transitionData(state, command, r), metadata: on === m ? metadata : { ...metadata, machineVersion: on.version } }];
  }

  function evolve(state: S, event: MachineRecord): S {
    if ((event.type as string) === MIGRATED) {
      const d = event.data as unknown as MigrationData;
      if (state === null) throw new InvalidTransitionError(m.id, NOT_STARTED, MIGRATED, 'recorded before the instance started');
      if (d.snapshot.machine !== m.id || d.snapshot.state !== d.to) throw new ReplayMismatchError(m.id, MIGRATED, d.to, d.snapshot.state);
      return d.snapshot as S;
    }
    if (event.type !== TRANSITION) return state; // outbox messages and other runtime records share the stream
    const { trigger, to } = event.data;
    let r: TransitionResult;
    if (trigger.type === START) {
      if (state !== null) throw new InvalidTransitionError(m.id, state.state, START, 'recorded for an instance that already started');
      r = start(at(event.metadata?.['machineVersion']), event.data.event['context']);
    } else {
      if (state === null) throw new InvalidTransitionError(m.id, NOT_STARTED, trigger.type, 'recorded before the instance started');
      r = transition(at((state as Snapshot).version), state, { ...event.data.event, type: trigger.type });
    }
    if (r.snapshot.state !== to) throw new ReplayMismatchError(m.id, trigger.type, to, r.snapshot.state);
    return r.snapshot as S;
  }

  return {
    machine,
    stateSchema: `machine:${m.id}@${m.version}`,
    initialState: () => null,
    decide,
    evolve,
  };
}
