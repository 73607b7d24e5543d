import type { z } from 'zod';
import { durationMs, type Duration } from './duration.js';
import { normaliseState } from './normalise.js';
import { validateMachine } from './validate.js';
import type {
  Assign,
  EffectSpec,
  EventOf,
  EventSchemas,
  Guard,
  Machine,
  MessageSchemas,
  NormalState,
  PayloadBuilder,
  StateSpec,
  StepSpec,
  TimerEvent,
} from './types.js';

type Str<T> = keyof T & string;

export interface SetupConfig<CS extends z.ZodType<object>, E extends EventSchemas, M extends MessageSchemas, G extends string, A extends string, D extends string> {
  /** Schema of the instance's data (validated when an instance starts). */
  readonly context: CS;
  /** Events the machine accepts, with their payload schemas. */
  readonly events: E;
  /** Messages it may send or publish as effects. */
  readonly messages?: M;
  /** Pure predicates, referenced by name from transitions. */
  readonly guards?: { readonly [K in G]: Guard<z.output<CS>, EventOf<E> | TimerEvent> };
  /** Pure context updates, referenced by name from transitions. */
  readonly assign?: { readonly [K in A]: Assign<z.output<CS>, EventOf<E> | TimerEvent> };
  /** Named delays for `after`, overridable per deployment with `withDelays`. */
  readonly delays?: { readonly [K in D]: Duration };
}

export interface MachineConfig<S extends string, St extends string, EvName extends string, G extends string, A extends string, D extends string, C, Ev> {
  readonly id: string;
  readonly version: number;
  readonly description?: string;
  readonly initial: NoInfer<S>;
  readonly steps?: { readonly [K in St]: StepSpec<C, Ev> };
  readonly states: { readonly [K in S]: StateSpec<NoInfer<S>, EvName, G, A, NoInfer<St>, D, C, Ev> };
}

/**
 * Declares the vocabulary of a machine (context, events, messages, guards, context
 * updates, delays) and returns a typed `createMachine` plus effect helpers, in the
 * spirit of XState v5's `setup()`: state names, event names, payloads, guard and
 * step names used in the definition are all checked by the compiler.
 */
export function setup<
  CS extends z.ZodType<object>,
  const E extends EventSchemas,
  const M extends MessageSchemas = Record<never, never>,
  const G extends string = never,
  const A extends string = never,
  const D extends string = never,
>(config: SetupConfig<CS, E, M, G, A, D>) {
  type C = z.output<CS>;
  type Ev = EventOf<E> | TimerEvent;

  function send<K extends Str<M>>(to: string, message: K, build?: (context: C, event: Ev) => z.input<M[K]>): EffectSpec<C, Ev> {
    return build ? { kind: 'send', to, message, build: build as PayloadBuilder<C, Ev, object> } : { kind: 'send', to, message };
  }
  function publish<K extends Str<M>>(message: K, build?: (context: C, event: Ev) => z.input<M[K]>): EffectSpec<C, Ev> {
    return build ? { kind: 'publish', message, build: build as PayloadBuilder<C, Ev, object> } : { kind: 'publish', message };
  }

  function createMachine<const S extends string, const St extends string = never>(
    def: MachineConfig<S, St, Str<E>, G, A, D, C, Ev>,
  ): Machine<S, EventOf<E>, C> {
    const stateNames = Object.keys(def.states) as S[];
    const states = Object.fromEntries(
      stateNames.map((name) => [name, normaliseState(name, def.states[name] as StateSpec<string, string, string, string, string, string, unknown, unknown>)]),
    ) as Record<S, NormalState>;
    const delays = Object.fromEntries(
      Object.entries<Duration>(config.delays ?? {}).map(([name, d]) => [name, { duration: d, ms: durationMs(d) }]),
    );
    const machine: Machine<S, EventOf<E>, C> = {
      id: def.id,
      version: def.version,
      ...(def.description === undefined ? {} : { description: def.description }),
      initial: def.initial,
      stateNames,
      states,
      steps: (def.steps ?? {}) as Record<string, StepSpec<unknown, unknown>>,
      delays,
      eventSchemas: config.events,
      messageSchemas: config.messages ?? {},
      contextSchema: config.context as unknown as z.ZodType<C>,
      guards: (config.guards ?? {}) as Record<string, Guard<unknown, unknown>>,
      assigns: (config.assign ?? {}) as Record<string, Assign<unknown, unknown>>,
    };
    validateMachine(machine);
    return Object.freeze(machine);
  }

  return { createMachine, send, publish };
}

/** A copy of the machine with some named delays changed (e.g. short timeouts in tests). */
export function withDelays<M extends Machine<string, { type: string }, unknown>>(machine: M, overrides: Readonly<Record<string, Duration>>): M {
  const delays = { ...machine.delays };
  for (const [name, d] of Object.entries(overrides)) {
    if (!(name in delays)) throw new RangeError(`machine ${machine.id} has no delay named ${name}`);
    delays[name] = { duration: d, ms: durationMs(d) };
  }
  return Object.freeze({ ...machine, delays });
}
