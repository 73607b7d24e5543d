import { InvalidEventError, InvalidTransitionError, NondeterminismError, SnapshotMismatchError } from './errors.js';
import { TIMER_EVENT, type AnyEvent, type Effect, type EffectSpec, type Machine, type NormalState, type NormalTransition, type Snapshot, type StepRecord, type TransitionResult, type TransitionStep } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;
type S<M> = M extends Machine<infer St, infer _E, infer _C> ? St : never;
type E<M> = M extends Machine<infer _S, infer Ev, infer _C> ? Ev : never;
type C<M> = M extends Machine<infer _S, infer _E, infer Ctx> ? Ctx : never;

export interface TransitionOptions {
  /** Compute the transition twice and fail if the results differ (dev mode). */
  readonly checkDeterminism?: boolean;
}

/** Eventless transitions chained longer than this are a definition bug (a loop). */
const MAX_MICROSTEPS = 64;

/** Timer ids name the state entry that armed them, so a late timer from an earlier visit is recognised. */
export function timerId(state: string, delay: string, seq: number): string {
  return `${state}/${delay}#${seq}`;
}
export function delayOfTimer(timer: string): string | undefined {
  return /^[^/]+\/(.+)#\d+$/.exec(timer)?.[1];
}

function buildEffect(spec: EffectSpec<unknown, unknown>, machine: AnyMachine, context: unknown, event: AnyEvent, extra: { step?: string; compensation?: boolean }): Effect {
  const raw = spec.build ? spec.build(context, event) : {};
  const schema = machine.messageSchemas[spec.message];
  let payload: object = raw;
  if (schema) {
    const r = schema.safeParse(raw);
    if (!r.success) throw new InvalidEventError(machine.id, spec.message, r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    payload = r.data;
  }
  if (spec.kind === 'publish') return { kind: 'publish', message: spec.message, payload };
  return { kind: 'send', to: spec.to ?? '', message: spec.message, payload, ...extra };
}

interface Work {
  state: string;
  context: unknown;
  steps: StepRecord[];
  seq: number;
  timers: string[];
  effects: Effect[];
  path: TransitionStep[];
}

function enter(machine: AnyMachine, w: Work, target: NormalState, event: AnyEvent): void {
  w.state = target.name;
  w.seq += 1;
  w.timers = [];
  if (target.invoke !== undefined) {
    const step = machine.steps[target.invoke];
    w.steps = [...w.steps.filter((s) => s.name !== target.invoke), { name: target.invoke, status: 'pending' }];
    if (step) w.effects.push(buildEffect(step.action, machine, w.context, event, { step: target.invoke }));
  }
  if (target.compensate !== undefined) {
    const comp = machine.steps[target.compensate]?.compensation;
    if (comp) w.effects.push(buildEffect(comp, machine, w.context, event, { step: target.compensate, compensation: true }));
  }
  for (const spec of target.entry) w.effects.push(buildEffect(spec, machine, w.context, event, {}));
  armTimers(machine, w, target);
}

/** Arms the state's `after` timers for its current entry (`w.seq`). */
function armTimers(machine: AnyMachine, w: Work, target: NormalState): void {
  for (const delay of Object.keys(target.after)) {
    const id = timerId(target.name, delay, w.seq);
    w.timers.push(id);
    w.effects.push({ kind: 'timer.set', timer: id, delay, delayMs: machine.delays[delay]?.ms ?? 0 });
  }
}

/** Cancels every timer the instance has armed. */
function cancelTimers(w: Work): void {
  for (const id of w.timers) w.effects.push({ kind: 'timer.cancel', timer: id });
  w.timers = [];
}

function take(machine: AnyMachine, w: Work, t: NormalTransition, event: AnyEvent, trigger: string): void {
  cancelTimers(w);
  for (const name of t.assign) w.context = machine.assigns[name]?.(w.context, event) ?? w.context;
  if (t.completes !== undefined) {
    const done = t.completes;
    w.steps = w.steps.some((s) => s.name === done) ? w.steps.map((s) => (s.name === done ? { name: done, status: 'done' } : s)) : [...w.steps, { name: done, status: 'done' }];
  }
  for (const gone of [t.fails, t.compensated]) if (gone !== undefined) w.steps = w.steps.filter((s) => s.name !== gone);
  for (const spec of t.effects) w.effects.push(buildEffect(spec, machine, w.context, event, {}));
  const target = machine.states[t.target];
  if (!target) throw new InvalidTransitionError(machine.id, w.state, trigger, `targeting unknown state ${t.target}`);
  w.path.push({ from: w.state, to: t.target, event: trigger });
  enter(machine, w, target, event);
}

function pick(machine: AnyMachine, candidates: readonly NormalTransition[], w: Work, event: AnyEvent, snapshot: Snapshot): NormalTransition | undefined {
  return candidates.find((t) => t.guard === undefined || machine.guards[t.guard]?.(w.context, event, { ...snapshot, context: w.context }) === true);
}

function followAlways(machine: AnyMachine, w: Work, event: AnyEvent, snapshot: Snapshot): void {
  for (let i = 0; i < MAX_MICROSTEPS; i++) {
    const state = machine.states[w.state];
    if (!state || state.always.length === 0) return;
    const t = pick(machine, state.always, w, event, snapshot);
    if (!t) return;
    take(machine, w, t, event, 'always');
  }
  throw new InvalidTransitionError(machine.id, w.state, 'always', `looping through more than ${MAX_MICROSTEPS} eventless transitions`);
}

function freeze<M extends AnyMachine>(machine: M, w: Work, changed: boolean): TransitionResult<S<M>, C<M>> {
  return {
    snapshot: { machine: machine.id, version: machine.version, state: w.state as S<M>, context: w.context as C<M>, steps: w.steps, seq: w.seq, timers: w.timers },
    effects: w.effects,
    path: w.path,
    changed,
  };
}

function parseEvent(machine: AnyMachine, state: string, event: AnyEvent): AnyEvent {
  const schema = machine.eventSchemas[event.type];
  if (!schema) throw new InvalidTransitionError(machine.id, state, event.type, 'unknown to this machine');
  const { type, ...payload } = event;
  const r = schema.safeParse(payload);
  if (!r.success) throw new InvalidEventError(machine.id, type, r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return { ...(r.data as Record<string, unknown>), type };
}

/** Starts an instance: validates its context and enters the initial state. */
export function start<M extends AnyMachine>(machine: M, context: C<M>): TransitionResult<S<M>, C<M>> {
  const r = machine.contextSchema.safeParse(context);
  if (!r.success) throw new InvalidEventError(machine.id, 'context', r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const w: Work = { state: machine.initial, context: r.data, steps: [], seq: -1, timers: [], effects: [], path: [] };
  const initial = machine.states[machine.initial];
  if (!initial) throw new InvalidTransitionError(machine.id, machine.initial, 'start', 'initial state missing');
  const startEvent = { type: 'ordo.start' };
  enter(machine, w, initial, startEvent);
  const snapshot = freeze(machine, w, true).snapshot;
  followAlways(machine, w, startEvent, snapshot);
  return freeze(machine, w, true);
}

function compute<M extends AnyMachine>(machine: M, snapshot: Snapshot<S<M>, C<M>>, input: AnyEvent): TransitionResult<S<M>, C<M>> {
  if (snapshot.machine !== machine.id || snapshot.version !== machine.version) {
    throw new SnapshotMismatchError({ id: machine.id, version: machine.version }, { id: snapshot.machine, version: snapshot.version });
  }
  const state = machine.states[snapshot.state];
  if (!state) throw new InvalidTransitionError(machine.id, snapshot.state, input.type, 'sent to an unknown state');
  const w: Work = { state: snapshot.state, context: snapshot.context, steps: [...snapshot.steps], seq: snapshot.seq, timers: [...snapshot.timers], effects: [], path: [] };

  let candidates: readonly NormalTransition[] | undefined;
  let event = input;
  let trigger = input.type;
  if (input.type === TIMER_EVENT) {
    const timer = typeof input['timer'] === 'string' ? input['timer'] : '';
    // A timer that is no longer armed fired late (its state was left): accepted, ignored.
    if (!snapshot.timers.includes(timer)) return freeze(machine, w, false);
    trigger = delayOfTimer(timer) ?? timer;
    candidates = state.after[trigger];
  } else {
    event = parseEvent(machine, snapshot.state, input);
    if (state.ignore.includes(event.type)) return freeze(machine, w, false);
    candidates = state.on[event.type];
  }
  if (!candidates || candidates.length === 0) throw new InvalidTransitionError(machine.id, snapshot.state, trigger);
  const t = pick(machine, candidates, w, event, snapshot);
  if (!t) throw new InvalidTransitionError(machine.id, snapshot.state, trigger, 'rejected by every guard');
  take(machine, w, t, event, trigger);
  followAlways(machine, w, event, snapshot);
  return freeze(machine, w, true);
}

/**
 * The pure transition function: the next snapshot and the effects to perform.
 * An event the current state does not accept throws InvalidTransitionError and
 * changes nothing (the input snapshot is never mutated).
 */
export function transition<M extends AnyMachine>(machine: M, snapshot: Snapshot<S<M>, C<M>>, event: E<M> | { type: typeof TIMER_EVENT; timer: string }, options: TransitionOptions = {}): TransitionResult<S<M>, C<M>> {
  const result = compute(machine, snapshot, event as AnyEvent);
  if (options.checkDeterminism) {
    const again = compute(machine, snapshot, event as AnyEvent);
    if (JSON.stringify(again) !== JSON.stringify(result)) throw new NondeterminismError(machine.id, snapshot.state, event.type);
  }
  return result;
}

/** Whether the state accepts the event type (without evaluating guards or payload). */
export function accepts(machine: AnyMachine, state: string, eventType: string): boolean {
  const s = machine.states[state];
  return !!s && (eventType in s.on || s.ignore.includes(eventType));
}

export function isFinal(machine: AnyMachine, state: string): boolean {
  return machine.states[state]?.final === true;
}

/**
 * Puts a snapshot of another version into `target` of this machine (a live migration,
 * machine/migration.ts). `enter`: as if a transition entered it (its invoke, compensation,
 * entry effects and timers; eventless transitions followed). `await`: the work the old
 * version started is what this state waits for, so nothing is sent; the timers the
 * state arms are kept when the state and its delays are unchanged, else re-armed.
 */
export function placeInState<M extends AnyMachine>(machine: M, from: Snapshot, target: string, context: unknown, steps: readonly StepRecord[], mode: 'enter' | 'await'): TransitionResult<S<M>, C<M>> {
  const state = machine.states[target];
  if (!state) throw new InvalidTransitionError(machine.id, from.state, 'ordo.migrate', `targeting unknown state ${target}`);
  const w: Work = { state: from.state, context, steps: [...steps], seq: from.seq, timers: [...from.timers], effects: [], path: [] };
  const event = { type: 'ordo.migrate' };
  const delays = Object.keys(state.after);
  const keepTimers = mode === 'await' && from.state === target && from.timers.length === delays.length && from.timers.every((t) => delays.includes(delayOfTimer(t) ?? ''));
  if (!keepTimers) cancelTimers(w);
  w.path.push({ from: from.state, to: target, event: event.type });
  if (mode === 'enter') enter(machine, w, state, event);
  else {
    w.state = target;
    if (!keepTimers) {
      w.seq += 1;
      armTimers(machine, w, state);
    }
  }
  const snapshot = freeze(machine, w, true).snapshot;
  if (mode === 'enter') followAlways(machine, w, event, snapshot);
  return freeze(machine, w, true);
}
