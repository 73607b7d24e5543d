import type { z } from 'zod';
import type { Duration } from './duration.js';

/** Payload schemas by event name, e.g. `{ InventoryReserved: z.object({ reservationId: z.string() }) }`. */
export type EventSchemas = Record<string, z.ZodType<object>>;
/** Schemas of the messages a machine sends or publishes as effects. */
export type MessageSchemas = Record<string, z.ZodType<object>>;

/** zod types `z.object({})` as `Record<string, never>`, which no `{ type }` object satisfies. */
type Payload<T> = string extends keyof T ? object : T;

/** The union of events a machine accepts: `{ type: name } & payload`. */
export type EventOf<E extends EventSchemas> = {
  [K in keyof E & string]: { readonly type: K } & Payload<z.output<E[K]>>;
}[keyof E & string];

/** Fired by the runtime when a durable timer armed by `after` expires. */
export interface TimerEvent {
  readonly type: 'ordo.timer';
  readonly timer: string;
}
export const TIMER_EVENT = 'ordo.timer';

export type AnyEvent = { readonly type: string } & Record<string, unknown>;

/** A saga step that was started (action sent) and, once its reply arrives, done. */
export interface StepRecord {
  readonly name: string;
  readonly status: 'pending' | 'done';
}

/** Everything needed to continue an instance: plain JSON. */
export interface Snapshot<S extends string = string, C = unknown> {
  readonly machine: string;
  readonly version: number;
  readonly state: S;
  readonly context: C;
  /** Started saga steps, oldest first; compensation walks it backwards. */
  readonly steps: readonly StepRecord[];
  /** Number of state entries so far; makes timer ids unique per entry. */
  readonly seq: number;
  /** Ids of the durable timers armed by the current state. */
  readonly timers: readonly string[];
}

/** An effect is data; the runtime performs it after the transition commits. */
export type Effect =
  | { readonly kind: 'send'; readonly to: string; readonly message: string; readonly payload: object; readonly step?: string; readonly compensation?: boolean }
  | { readonly kind: 'publish'; readonly message: string; readonly payload: object }
  | { readonly kind: 'timer.set'; readonly timer: string; readonly delay: string; readonly delayMs: number }
  | { readonly kind: 'timer.cancel'; readonly timer: string };

export type Guard<C, Ev> = (context: C, event: Ev, snapshot: Snapshot<string, C>) => boolean;
export type Assign<C, Ev> = (context: C, event: Ev) => C;
export type PayloadBuilder<C, Ev, P> = (context: C, event: Ev) => P;

/** How an effect is written in a definition: what to send, and a pure function building its payload. */
export interface EffectSpec<C = never, Ev = never> {
  readonly kind: 'send' | 'publish';
  readonly to?: string;
  readonly message: string;
  readonly build?: PayloadBuilder<C, Ev, object>;
}

export interface StepSpec<C = never, Ev = never> {
  readonly action: EffectSpec<C, Ev>;
  readonly compensation?: EffectSpec<C, Ev>;
  readonly description?: string;
}

export interface TransitionObject<S extends string, G extends string, A extends string, St extends string, C, Ev> {
  readonly target: S;
  readonly guard?: G;
  readonly assign?: A | readonly A[];
  readonly effects?: readonly EffectSpec<C, Ev>[];
  /** The reply that marks this saga step done. */
  readonly completes?: St;
  /** The reply that says this step did not take effect: nothing to compensate. */
  readonly fails?: St;
  /** The reply that confirms this step's compensation: it is no longer to be undone. */
  readonly compensated?: St;
  readonly description?: string;
}

export type TransitionSpec<S extends string, G extends string, A extends string, St extends string, C, Ev> =
  | S
  | TransitionObject<S, G, A, St, C, Ev>
  | readonly TransitionObject<S, G, A, St, C, Ev>[];

export interface StateSpec<S extends string, EvName extends string, G extends string, A extends string, St extends string, D extends string, C, Ev> {
  readonly type?: 'final';
  readonly description?: string;
  readonly tags?: readonly string[];
  /** Run this saga step's action on entry and record it as pending. */
  readonly invoke?: St;
  /** Run this saga step's compensation on entry. */
  readonly compensate?: St;
  readonly entry?: readonly EffectSpec<C, Ev>[];
  readonly on?: { readonly [K in EvName]?: TransitionSpec<S, G, A, St, C, Ev> };
  /** Durable timers: delay name → transition taken when it fires. */
  readonly after?: { readonly [K in D]?: TransitionSpec<S, G, A, St, C, Ev> };
  /** Eventless transition, taken at once on entry (first whose guard passes). */
  readonly always?: TransitionSpec<S, G, A, St, C, Ev>;
  /** Events accepted here and deliberately ignored (late replies after a timeout). */
  readonly ignore?: readonly EvName[];
}

/** The normalised, untyped shape every tool (runtime, checker, diagram) walks. */
export interface NormalTransition {
  readonly target: string;
  readonly guard?: string;
  readonly assign: readonly string[];
  readonly effects: readonly EffectSpec<unknown, unknown>[];
  readonly completes?: string;
  readonly fails?: string;
  readonly compensated?: string;
  readonly description?: string;
}

export interface NormalState {
  readonly name: string;
  readonly final: boolean;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly invoke?: string;
  readonly compensate?: string;
  readonly entry: readonly EffectSpec<unknown, unknown>[];
  readonly on: Readonly<Record<string, readonly NormalTransition[]>>;
  readonly after: Readonly<Record<string, readonly NormalTransition[]>>;
  readonly always: readonly NormalTransition[];
  readonly ignore: readonly string[];
}

/**
 * A built machine. The type parameters carry what the definition declared
 * (state names, the event union, the context) so misuse fails to compile.
 */
export interface Machine<S extends string = string, Ev extends AnyEvent | { type: string } = AnyEvent, C = unknown> {
  readonly id: string;
  readonly version: number;
  readonly description?: string;
  readonly initial: S;
  readonly stateNames: readonly S[];
  readonly states: Readonly<Record<S, NormalState>>;
  readonly steps: Readonly<Record<string, StepSpec<unknown, unknown>>>;
  readonly delays: Readonly<Record<string, { readonly duration: Duration; readonly ms: number }>>;
  readonly eventSchemas: Readonly<Record<string, z.ZodType<object>>>;
  readonly messageSchemas: Readonly<Record<string, z.ZodType<object>>>;
  readonly contextSchema: z.ZodType<C>;
  readonly guards: Readonly<Record<string, Guard<unknown, unknown>>>;
  readonly assigns: Readonly<Record<string, Assign<unknown, unknown>>>;
  /** Phantom fields for inference only. */
  readonly __types?: { state: S; event: Ev; context: C };
}

export type StateOf<M> = M extends Machine<infer S, infer _E, infer _C> ? S : never;
export type EventOfMachine<M> = M extends Machine<infer _S, infer E, infer _C> ? E : never;
export type ContextOf<M> = M extends Machine<infer _S, infer _E, infer C> ? C : never;
export type SnapshotOf<M> = Snapshot<StateOf<M>, ContextOf<M>>;

export interface TransitionStep {
  readonly from: string;
  readonly to: string;
  readonly event: string;
}

export interface TransitionResult<S extends string = string, C = unknown> {
  readonly snapshot: Snapshot<S, C>;
  readonly effects: readonly Effect[];
  /** The state changes taken, in order (more than one when `always` transitions follow). */
  readonly path: readonly TransitionStep[];
  /** False when the event was accepted and deliberately ignored. */
  readonly changed: boolean;
}
