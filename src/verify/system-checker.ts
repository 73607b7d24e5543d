import { TraceReplayError } from './errors.js';
import { findLivenessFailure, type ExploredGraph } from './explored-graph.js';
import type { SystemDefinition, SystemRunOptions } from './system-definition.js';
import { SystemModel } from './system-model.js';
import { successors } from './system-step.js';
import { BoundView, describeAction, viewOf, type KeyView } from './system-view.js';
import { IntColumn, StateStore } from './state-store.js';
import { isDataInvariant, isDataLiveness } from './property-formula.js';
import { compileRaw, type RawPredicate } from './property-raw.js';

export const VALID_STATE_TRANSITIONS = 'ValidStateTransitions';
export const NO_STRANDED_MESSAGES = 'NoStrandedMessages';

export interface Progress {
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  /** States discovered but not yet expanded. */
  readonly queue: number;
  /** Only when a clock was given. */
  readonly seconds?: number;
  readonly statesPerSec?: number;
}

export interface CheckOptions {
  /** Check the liveness properties (needs the explored graph in memory). Default true. */
  readonly liveness?: boolean;
  readonly maxStates?: number;
  readonly onProgress?: (p: Progress) => void;
  /** Expanded states between progress reports (default 1 << 17). */
  readonly progressEvery?: number;
  /** A clock in milliseconds (the checker is pure: the caller passes `performance.now`). */
  readonly now?: () => number;
}

/** One step of a counterexample: who did what, and where every key stands after it. */
export interface TraceStep {
  readonly step: number;
  readonly actor: string;
  readonly action: string;
  /** 1-based key (order, trip…) the step concerns (0 for the initial state). */
  readonly order: number;
  readonly message?: string;
  /** Machine state of each key after the step. */
  readonly states: readonly string[];
  /** Each participant's shared state after the step (stock…). */
  readonly shared: Readonly<Record<string, unknown>>;
  readonly keys: readonly KeyView[];
  /** Part of the repeating cycle of a lasso (liveness counterexample). */
  readonly cycle?: true;
}

export interface Violation {
  readonly property: string;
  readonly trace: readonly TraceStep[];
}

export type PropertyStatus = 'holds' | 'violated' | 'vacuous' | 'unchecked';

export interface SystemCheckResult {
  readonly model: string;
  readonly keys: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly symmetry: boolean;
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  readonly seconds?: number;
  readonly properties: readonly { readonly name: string; readonly kind: 'safety' | 'liveness'; readonly status: PropertyStatus; readonly description: string }[];
  readonly violations: readonly Violation[];
}

interface Pending {
  readonly property: string;
  /** Edge path as (canonical target state id, action) pairs; the last may point at an unstored state. */
  readonly path: { to: Uint8Array; action: number }[];
  readonly cycleFrom?: number;
}

/**
 * Explores every reachable state of a system breadth-first, over the packed state
 * vector generated from its definition, checking the invariants on each new state and
 * the liveness properties on the explored graph under weak fairness per actor.
 */
export function checkSystem(definition: SystemDefinition, run: SystemRunOptions, check: CheckOptions = {}): SystemCheckResult {
  return checkModel(new SystemModel(definition, run), check);
}

export function checkModel(model: SystemModel, check: CheckOptions = {}): SystemCheckResult {
  const t0 = check.now?.();
  const width = model.width;
  const store = new StateStore(width, check.maxStates);
  const symmetry = model.options.symmetry;
  const liveness = check.liveness ?? true;
  const safety = model.definition.invariants;
  const live = model.definition.liveness;
  const view = new BoundView(model);
  // Data properties run compiled over the raw state bytes (property-raw.ts); others through the view.
  const rawSafety = safety.map((p) => (isDataInvariant(p) ? compileRaw(model, p.formula) : undefined));

  const parent = new IntColumn();
  const parentAction = new IntColumn();
  const edgeStart = new IntColumn();
  const edgeTo = new IntColumn();
  const edgeActor = new IntColumn();
  const edgeAction = new IntColumn();
  const parentEdge = new IntColumn();
  const found: Pending[] = [];
  const violated = new Set<string>();
  let transitions = 0;

  const pathTo = (id: number): { to: Uint8Array; action: number }[] => {
    const out: { to: Uint8Array; action: number }[] = [];
    for (let cur = id; cur > 0; cur = parent.get(cur)) out.push({ to: store.view(cur).slice(), action: parentAction.get(cur) });
    return out.reverse();
  };
  // The invariants not violated yet (each is reported once): no set lookup per state and property.
  let open = safety.map((p, i) => ({ p, raw: rawSafety[i] }));
  let strandedOpen = true;
  const checkSafety = (id: number, s: Uint8Array) => {
    if (strandedOpen && model.stranded(s) >= 0) {
      strandedOpen = false;
      violated.add(NO_STRANDED_MESSAGES);
      found.push({ property: NO_STRANDED_MESSAGES, path: pathTo(id) });
    }
    let changed = false;
    for (let i = 0; i < open.length; i++) {
      const { p, raw } = open[i] as (typeof open)[number];
      if (changed && violated.has(p.name)) continue;
      if (!(raw ? raw(s, 0) : p.holds(view.bind(s)))) {
        violated.add(p.name);
        found.push({ property: p.name, path: pathTo(id) });
        changed = true;
      }
    }
    if (changed) open = open.filter(({ p }) => !violated.has(p.name));
  };

  const init = model.initial();
  if (symmetry) model.canonicalize(init);
  store.intern(new Int32Array(init.buffer, init.byteOffset, width / 4));
  parent.push(-1);
  parentAction.push(0);
  parentEdge.push(-1);
  checkSafety(0, init);

  const cur = new Uint8Array(width);
  const curWords = new Int32Array(cur.buffer);
  const scratch = new Uint8Array(width);
  const scratchWords = new Int32Array(scratch.buffer);
  let from = 0;
  let depth = 0;
  let levelEnd = 1;
  const every = check.progressEvery ?? 1 << 17;
  const emit = (next: Uint8Array, actor: number, action: number, invalid: boolean) => {
    transitions++;
    // `next` is a successor of the canonical `cur` by an action on key (action >> 8) & 0xff.
    if (symmetry) model.canonicalizeKey(next, (action >>> 8) & 0xff);
    // `next` is always `scratch` (the model writes successors there).
    const id = store.intern(next === scratch ? scratchWords : new Int32Array(next.slice().buffer));
    const isNew = store.lastWasNew;
    if (isNew) {
      parent.push(from);
      parentAction.push(action);
      if (liveness) parentEdge.push(edgeTo.length);
    }
    if (liveness) {
      edgeTo.push(id);
      edgeActor.push(actor);
      edgeAction.push(action);
    }
    if (invalid && !violated.has(VALID_STATE_TRANSITIONS)) {
      violated.add(VALID_STATE_TRANSITIONS);
      found.push({ property: VALID_STATE_TRANSITIONS, path: [...pathTo(from), { to: store.view(id).slice(), action }] });
    }
    if (isNew) checkSafety(id, next);
  };
  for (; from < store.count; from++) {
    if (from === levelEnd) {
      depth++;
      levelEnd = store.count;
    }
    if (check.onProgress && from % every === 0 && from > 0) {
      const elapsed = t0 === undefined ? undefined : ((check.now?.() ?? 0) - t0) / 1000;
      check.onProgress({
        states: store.count,
        transitions,
        depth,
        queue: store.count - from,
        ...(elapsed === undefined ? {} : { seconds: elapsed, statesPerSec: elapsed > 0 ? store.count / elapsed : 0 }),
      });
    }
    edgeStart.push(edgeTo.length);
    store.readWords(from, curWords);
    successors(model, cur, scratch, emit);
  }
  edgeStart.push(edgeTo.length);

  const statuses: { name: string; kind: 'safety' | 'liveness'; status: PropertyStatus; description: string }[] = [
    { name: VALID_STATE_TRANSITIONS, kind: 'safety', status: violated.has(VALID_STATE_TRANSITIONS) ? 'violated' : 'holds', description: 'every state change follows an allowed edge' },
    { name: NO_STRANDED_MESSAGES, kind: 'safety', status: violated.has(NO_STRANDED_MESSAGES) ? 'violated' : 'holds', description: 'no reply is left parked when its key is final and quiet' },
    ...safety.map((p): { name: string; kind: 'safety'; status: PropertyStatus; description: string } => ({ name: p.name, kind: 'safety', status: violated.has(p.name) ? 'violated' : 'holds', description: p.description })),
  ];
  if (liveness) {
    const g: ExploredGraph = {
      count: store.count,
      edgeStart: edgeStart.data.subarray(0, edgeStart.length),
      edgeTo: edgeTo.data.subarray(0, edgeTo.length),
      edgeActor: Uint8Array.from(edgeActor.data.subarray(0, edgeActor.length)),
      edgeAction: edgeAction.data.subarray(0, edgeAction.length),
      parentEdge: parentEdge.data.subarray(0, parentEdge.length),
    };
    const buf = new Uint8Array(width);
    const bytes = store.bytes;
    for (const p of live) {
      const pending = new Uint8Array(store.count);
      let premise = false;
      const rawPending: RawPredicate | undefined = isDataLiveness(p) ? compileRaw(model, p.pendingFormula) : undefined;
      const rawPremise: RawPredicate | undefined = isDataLiveness(p) ? compileRaw(model, p.premiseFormula) : undefined;
      for (let id = 0; id < store.count; id++) {
        if (rawPending && rawPremise) {
          // Straight over the store's bytes: no copy, no view.
          const o = id * width;
          pending[id] = rawPending(bytes, o) ? 1 : 0;
          premise ||= rawPremise(bytes, o);
          continue;
        }
        store.read(id, buf);
        view.bind(buf);
        pending[id] = p.pending(view) ? 1 : 0;
        premise ||= p.premise(view);
      }
      const failure = findLivenessFailure(g, (id) => pending[id] === 1, model.fairMask);
      const asSteps = (edges: readonly number[]) => edges.map((e) => ({ to: store.view(g.edgeTo[e] ?? 0).slice(), action: g.edgeAction[e] ?? 0 }));
      if (failure) {
        const prefix = asSteps(failure.prefix);
        found.push(failure.kind === 'deadlock' ? { property: p.name, path: prefix } : { property: p.name, path: [...prefix, ...asSteps(failure.cycle)], cycleFrom: prefix.length });
      }
      statuses.push({ name: p.name, kind: 'liveness', status: failure ? 'violated' : premise ? 'holds' : 'vacuous', description: p.description });
    }
  } else {
    for (const p of live) statuses.push({ name: p.name, kind: 'liveness', status: 'unchecked', description: p.description });
  }

  const t1 = check.now?.();
  return {
    model: model.definition.name,
    keys: model.options.keys,
    faults: Object.fromEntries(Object.entries(model.options.faults).filter(([, n]) => n > 0)),
    symmetry,
    states: store.count,
    transitions,
    depth,
    ...(t0 === undefined || t1 === undefined ? {} : { seconds: (t1 - t0) / 1000 }),
    properties: statuses,
    violations: found.map((f) => ({ property: f.property, trace: concreteTrace(model, f) })),
  };
}

/**
 * Replays a path found over (possibly symmetry-reduced) states on concrete
 * states: at each step, the successor whose canonical form matches. The result
 * names real keys, so it can be replayed against the runtime.
 */
function concreteTrace(model: SystemModel, f: Pending): TraceStep[] {
  const step = (n: number, s: Uint8Array, d: { actor: string; action: string; order: number; message?: string }, cycle: boolean): TraceStep => {
    const view = viewOf(model, s);
    return { step: n, ...d, states: view.keys.map((o) => o.state), shared: view.shared, keys: view.keys, ...(cycle ? { cycle: true as const } : {}) };
  };
  let cur = model.initial();
  const out: TraceStep[] = [step(0, cur, { actor: 'init', action: 'start', order: 0 }, false)];
  const scratch = new Uint8Array(model.width);
  const canon = new Uint8Array(model.width);
  f.path.forEach((p, n) => {
    let chosen: { next: Uint8Array; action: number } | undefined;
    let fallback: { next: Uint8Array; action: number } | undefined;
    successors(model, cur, scratch, (next, _actor, action) => {
      if (chosen) return;
      canon.set(next);
      if (model.options.symmetry) model.canonicalize(canon);
      if (!canon.every((v, k) => v === p.to[k])) return;
      const candidate = { next: next.slice(), action };
      if (action >>> 16 === p.action >>> 16) chosen = candidate;
      else fallback ??= candidate;
    });
    const pick = chosen ?? fallback;
    if (!pick) throw new TraceReplayError(f.property, n + 1);
    out.push(step(n + 1, pick.next, describeAction(model, cur, pick.action), f.cycleFrom !== undefined && n >= f.cycleFrom));
    cur = pick.next;
  });
  return out;
}
