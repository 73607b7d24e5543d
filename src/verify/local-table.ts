import { OrdoError, TIMER_EVENT, adjacency, delayOfTimer, migrateSnapshot, start, transition, type AnyEvent, type Machine, type MachineMigration, type Snapshot, type TransitionResult, type TransitionStep } from '../machine/index.js';
import { ModelBoundError, ModelOptionsError } from './errors.js';
import { samplePayload } from './sample-payload.js';
import { snapshotKey } from './snapshot-key.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

export interface LocalInput {
  /** `migrate`: a live migration of the instance to the new version (only in a migration check). */
  readonly kind: 'reply' | 'environment' | 'timer' | 'migrate';
  /** Event type, the delay name for a timer, `v1→v2` for a migration. */
  readonly name: string;
}

export interface LocalCommand {
  /** Index of the participant in the definition. */
  readonly service: number;
  /** 1-based code of the command in that participant's command list. */
  readonly code: number;
}

/** The commands the machine sends to one participant, in code order, each with the payload the sample context gives it. */
export interface CommandList {
  readonly names: string[];
  readonly payloads: unknown[];
}

/**
 * One key's machine behaviour as a finite table, computed by calling the machine's own
 * `transition()` on every reachable (abstracted) snapshot and every input. The
 * system checker and the Promela/TLA+ exports read this table, so all three
 * describe exactly the transitions the runtime takes.
 */
export interface LocalTable {
  readonly machine: AnyMachine;
  readonly snapshots: readonly Snapshot[];
  /** Machine state name per local state. */
  readonly names: readonly string[];
  readonly final: Uint8Array;
  /** Machine version per local state (a migration check holds both). */
  readonly version: Uint8Array;
  readonly inputs: readonly LocalInput[];
  /** next[l * inputs + k]: the next local state, -1 if rejected (not accepted here), -2 if not applicable (timer not armed). */
  readonly next: Int16Array;
  /** Whether the input changed the snapshot (false: accepted and deliberately ignored). */
  readonly changed: Uint8Array;
  readonly sends: readonly (readonly LocalCommand[])[];
  readonly paths: readonly (readonly TransitionStep[])[];
  /** Per entry: 1 when a state change in its path is outside `allowedTransitions`. */
  readonly invalid: Uint8Array;
  readonly inputIndex: (kind: LocalInput['kind'], name: string) => number;
  /** Per participant: the commands the machine sends it. */
  readonly commands: readonly CommandList[];
}

export interface LocalTableOptions {
  readonly context: unknown;
  /** Participants the machine sends commands to, in layout order. */
  readonly participants: readonly string[];
  /** Events the machine receives as the participants' answers, in reply-code order. */
  readonly replies: readonly string[];
  /** Events the machine receives from outside. */
  readonly environment: readonly string[];
  /**
   * ValidStateTransitions: a table of allowed changes (e.g. the seed's, plus documented extensions).
   * It constrains changes between states it lists; other changes must follow a machine edge.
   */
  readonly allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  readonly maxLocalStates?: number;
  /**
   * A live migration to check: snapshots of `machine` (the old version) may take the
   * `migrate` input into `to`, the new version; a snapshot then follows its own version.
   */
  readonly migration?: { readonly to: AnyMachine; readonly migration: MachineMigration<never, unknown> };
}

export function buildLocalTable(machine: AnyMachine, options: LocalTableOptions): LocalTable {
  const target = options.migration?.to;
  const schemaOf = (name: string) => target?.eventSchemas[name] ?? machine.eventSchemas[name];
  for (const name of [...options.replies, ...options.environment]) {
    if (!schemaOf(name)) throw new ModelOptionsError('machine', `the system definition needs the machine to accept ${name}`);
  }
  const mig = options.migration?.migration;
  const inputs: LocalInput[] = [
    ...options.replies.map((name) => ({ kind: 'reply' as const, name })),
    ...options.environment.map((name) => ({ kind: 'environment' as const, name })),
    ...[...new Set([...Object.keys(machine.delays), ...Object.keys(target?.delays ?? {})])].map((name) => ({ kind: 'timer' as const, name })),
    ...(mig ? [{ kind: 'migrate' as const, name: `v${mig.from}→v${mig.to}` }] : []),
  ];
  const payloads = inputs.map((inp) => (inp.kind === 'timer' || inp.kind === 'migrate' ? undefined : ({ ...samplePayload(inp.name, schemaOf(inp.name) as never), type: inp.name })));
  const I = inputs.length;
  const maxLocal = options.maxLocalStates ?? 4096;
  const allowed = options.allowedTransitions;
  /** A snapshot follows its own version: the new one once migrated. */
  const machineOf = (s: Snapshot): AnyMachine => (target && s.version === target.version ? target : machine);
  const edgesOf = new Map([machine, ...(target ? [target] : [])].map((mm) => [mm, adjacency(mm)]));

  const snapshots: Snapshot[] = [];
  const ids = new Map<string, number>();
  const next: number[] = [];
  const changed: number[] = [];
  const sends: LocalCommand[][] = [];
  const paths: TransitionStep[][] = [];
  const invalid: number[] = [];
  const intern = (s: Snapshot): number => {
    const key = snapshotKey(s);
    const known = ids.get(key);
    if (known !== undefined) return known;
    if (snapshots.length >= maxLocal) throw new ModelBoundError('maxLocalStates', maxLocal, 'the machine has too many distinct snapshots for the system model');
    ids.set(key, snapshots.length);
    snapshots.push(s);
    return snapshots.length - 1;
  };
  const commands: CommandList[] = options.participants.map(() => ({ names: [], payloads: [] }));
  const commandsOf = (effects: readonly { kind: string; to?: string; message?: string; payload?: unknown }[]): LocalCommand[] => {
    const out: LocalCommand[] = [];
    for (const e of effects) {
      if (e.kind !== 'send') continue;
      const service = options.participants.indexOf(e.to ?? '');
      const list = commands[service];
      if (!list) throw new ModelOptionsError('machine', `the system definition has no participant "${e.to ?? '?'}" for ${e.message ?? '?'}`);
      let code = list.names.indexOf(e.message ?? '');
      if (code < 0) {
        code = list.names.push(e.message ?? '') - 1;
        list.payloads.push(e.payload);
      }
      out.push({ service, code: code + 1 });
    }
    return out;
  };

  intern(start(machine, options.context).snapshot);
  for (let l = 0; l < snapshots.length; l++) {
    const s = snapshots[l] as Snapshot;
    const own = machineOf(s);
    const machineEdges = edgesOf.get(own) ?? new Map<string, Set<string>>();
    for (let k = 0; k < I; k++) {
      const inp = inputs[k] as LocalInput;
      let ev: AnyEvent | undefined = payloads[k];
      if (inp.kind === 'timer') {
        const timer = s.timers.find((t) => delayOfTimer(t) === inp.name);
        ev = timer === undefined ? undefined : { type: TIMER_EVENT, timer };
      }
      // The runtime migrates unfinished instances only (a finished one keeps its version).
      const migrates = inp.kind === 'migrate' && mig !== undefined && target !== undefined && own === machine && !machine.states[s.state]?.final;
      let entry = -2;
      let ch = 0;
      let cmds: LocalCommand[] = [];
      let path: TransitionStep[] = [];
      if (ev || migrates) {
        try {
          const r: TransitionResult<string, unknown> = migrates ? migrateSnapshot(mig, machine, target, s) : transition(own, s, ev as { type: string });
          entry = intern(r.snapshot);
          ch = r.changed ? 1 : 0;
          cmds = commandsOf(r.effects);
          path = [...r.path];
        } catch (e) {
          // A context upcaster may throw anything: the instance then cannot migrate (EventuallyMigrated reports it).
          if (!(e instanceof OrdoError) && !migrates) throw e;
          entry = -1;
        }
      }
      next.push(entry);
      changed.push(ch);
      sends.push(cmds);
      paths.push(path);
      // A change must follow an edge of the machine and, between two states the table knows, an edge of the table
      // (a migration moves an instance by its mapping, not by an edge: it is checked by its own properties).
      const bad = !migrates && path.some((p) => !(machineEdges.get(p.from)?.has(p.to) ?? false) || (allowed !== undefined && p.from in allowed && p.to in allowed && !(allowed[p.from] ?? []).includes(p.to)));
      invalid.push(bad ? 1 : 0);
    }
  }
  return {
    machine,
    snapshots,
    names: snapshots.map((s) => s.state),
    final: Uint8Array.from(snapshots.map((s) => (machineOf(s).states[s.state]?.final ? 1 : 0))),
    version: Uint8Array.from(snapshots.map((s) => s.version)),
    inputs,
    next: Int16Array.from(next),
    changed: Uint8Array.from(changed),
    sends,
    paths,
    invalid: Uint8Array.from(invalid),
    inputIndex: (kind, name) => inputs.findIndex((i) => i.kind === kind && i.name === name),
    commands,
  };
}
