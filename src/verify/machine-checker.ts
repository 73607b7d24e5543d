import { OrdoError, TIMER_EVENT, delayOfTimer, isFinal, start, transition, type AnyEvent, type Machine, type Snapshot } from '../machine/index.js';
import { ModelBoundError } from './errors.js';
import { samplePayload } from './sample-payload.js';
import { snapshotKey } from './snapshot-key.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

export interface MachineCheckOptions {
  /** Context the instance starts with. */
  readonly context: unknown;
  /** Candidate events in a snapshot (default: one representative payload per event type). Armed timers are added. */
  readonly events?: (snapshot: Snapshot) => readonly AnyEvent[];
  /** Named state predicates that must hold in every reachable snapshot. */
  readonly invariants?: Readonly<Record<string, (snapshot: Snapshot) => boolean>>;
  /** Named predicates over each taken step; false is a violation. */
  readonly stepInvariants?: Readonly<Record<string, (from: Snapshot, event: AnyEvent, to: Snapshot) => boolean>>;
  /** Fire armed timers (default true). */
  readonly timers?: boolean;
  readonly maxStates?: number;
}

export interface MachineTraceStep {
  /** Event type, or `ordo.timer:<delay>`. */
  readonly event: string;
  readonly from: string;
  readonly to: string;
}

export interface MachineFinding {
  readonly state: string;
  readonly snapshot: Snapshot;
  /** Shortest sequence of events from the start that reaches it. */
  readonly trace: readonly MachineTraceStep[];
}

export interface MachineCheckResult {
  readonly machine: string;
  readonly states: number;
  readonly transitions: number;
  /** Machine states (names) seen in some reachable snapshot. */
  readonly reachedStates: readonly string[];
  /** Non-final snapshots in which no event changes anything. */
  readonly deadlocks: readonly MachineFinding[];
  /** Snapshots from which no final state can be reached (includes deadlocks). */
  readonly cannotReachFinal: readonly MachineFinding[];
  readonly invariantViolations: readonly (MachineFinding & { readonly invariant: string })[];
  readonly ok: boolean;
}

function eventLabel(ev: AnyEvent): string {
  return ev.type === TIMER_EVENT ? `${TIMER_EVENT}:${delayOfTimer(String(ev['timer'])) ?? String(ev['timer'])}` : ev.type;
}

/**
 * Explores every reachable snapshot of one machine instance breadth-first,
 * calling the machine's own `transition()`: the definition that runs is the one
 * checked. Reports deadlocks, snapshots that cannot finish, and invariant
 * violations, each with its shortest trace.
 */
export function checkMachine(machine: AnyMachine, options: MachineCheckOptions): MachineCheckResult {
  const samples = Object.entries(machine.eventSchemas).map(([type, schema]) => ({ ...samplePayload(type, schema), type }));
  const candidates = options.events ?? (() => samples);
  const maxStates = options.maxStates ?? 1_000_000;
  const fireTimers = options.timers ?? true;

  const snapshots: Snapshot[] = [];
  const parent: { from: number; step: MachineTraceStep }[] = [];
  const succ: number[][] = [];
  const ids = new Map<string, number>();
  let transitions = 0;
  const invariantViolations: (MachineFinding & { invariant: string })[] = [];
  const violated = new Set<string>();

  const trace = (id: number): MachineTraceStep[] => {
    const out: MachineTraceStep[] = [];
    for (let cur = id; cur > 0; ) {
      const p = parent[cur];
      if (!p) break;
      out.push(p.step);
      cur = p.from;
    }
    return out.reverse();
  };
  const finding = (id: number): MachineFinding => {
    const snapshot = snapshots[id] as Snapshot;
    return { state: snapshot.state, snapshot, trace: trace(id) };
  };
  const add = (s: Snapshot, from: number, step: MachineTraceStep | undefined): number => {
    const key = snapshotKey(s);
    const known = ids.get(key);
    if (known !== undefined) return known;
    const id = snapshots.length;
    if (id >= maxStates) throw new ModelBoundError('maxStates', maxStates, 'raise maxStates or narrow the candidate events');
    ids.set(key, id);
    snapshots.push(s);
    succ.push([]);
    parent.push({ from, step: step ?? { event: 'start', from: '', to: s.state } });
    for (const [name, holds] of Object.entries(options.invariants ?? {})) {
      if (!violated.has(name) && !holds(s)) {
        violated.add(name);
        invariantViolations.push({ invariant: name, ...finding(id) });
      }
    }
    return id;
  };

  add(start(machine, options.context).snapshot, -1, undefined);
  for (let id = 0; id < snapshots.length; id++) {
    const s = snapshots[id] as Snapshot;
    const events: AnyEvent[] = [...candidates(s)];
    if (fireTimers) for (const timer of s.timers) events.push({ type: TIMER_EVENT, timer });
    for (const ev of events) {
      let r;
      try {
        r = transition(machine, s, ev as { type: string });
      } catch (e) {
        if (e instanceof OrdoError) continue; // not enabled here
        throw e;
      }
      if (!r.changed) continue;
      transitions++;
      const step: MachineTraceStep = { event: eventLabel(ev), from: s.state, to: r.snapshot.state };
      for (const [name, holds] of Object.entries(options.stepInvariants ?? {})) {
        if (!violated.has(name) && !holds(s, ev, r.snapshot)) {
          violated.add(name);
          invariantViolations.push({ invariant: name, state: r.snapshot.state, snapshot: r.snapshot, trace: [...trace(id), step] });
        }
      }
      const to = add(r.snapshot, id, step);
      succ[id]?.push(to);
    }
  }

  // Backward reachability from final snapshots finds the ones that can never finish.
  const preds: number[][] = snapshots.map(() => []);
  succ.forEach((ts, from) => ts.forEach((t) => preds[t]?.push(from)));
  const canFinish = new Uint8Array(snapshots.length);
  const queue: number[] = [];
  snapshots.forEach((s, i) => {
    if (isFinal(machine, s.state)) {
      canFinish[i] = 1;
      queue.push(i);
    }
  });
  for (let qi = 0; qi < queue.length; qi++) {
    for (const p of preds[queue[qi] ?? 0] ?? []) {
      if (!canFinish[p]) {
        canFinish[p] = 1;
        queue.push(p);
      }
    }
  }
  const deadlocks: MachineFinding[] = [];
  const cannotReachFinal: MachineFinding[] = [];
  snapshots.forEach((s, i) => {
    if (!isFinal(machine, s.state) && (succ[i]?.length ?? 0) === 0) deadlocks.push(finding(i));
    if (!canFinish[i]) cannotReachFinal.push(finding(i));
  });
  return {
    machine: machine.id,
    states: snapshots.length,
    transitions,
    reachedStates: [...new Set(snapshots.map((s) => s.state))],
    deadlocks,
    cannotReachFinal,
    invariantViolations,
    ok: deadlocks.length === 0 && cannotReachFinal.length === 0 && invariantViolations.length === 0,
  };
}
