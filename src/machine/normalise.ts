import type { NormalState, NormalTransition, StateSpec, TransitionObject } from './types.js';

type AnyTransitionSpec = string | TransitionObject<string, string, string, string, unknown, unknown> | readonly TransitionObject<string, string, string, string, unknown, unknown>[];

function one(t: TransitionObject<string, string, string, string, unknown, unknown>): NormalTransition {
  const assign = t.assign === undefined ? [] : typeof t.assign === 'string' ? [t.assign] : [...(t.assign)];
  return {
    target: t.target,
    ...(t.guard === undefined ? {} : { guard: t.guard }),
    assign,
    effects: (t.effects ?? []),
    ...(t.completes === undefined ? {} : { completes: t.completes }),
    ...(t.fails === undefined ? {} : { fails: t.fails }),
    ...(t.compensated === undefined ? {} : { compensated: t.compensated }),
    ...(t.description === undefined ? {} : { description: t.description }),
  };
}

export function normaliseTransitions(spec: AnyTransitionSpec | undefined): readonly NormalTransition[] {
  if (spec === undefined) return [];
  if (typeof spec === 'string') return [one({ target: spec })];
  if (Array.isArray(spec)) return (spec as readonly TransitionObject<string, string, string, string, unknown, unknown>[]).map(one);
  return [one(spec as TransitionObject<string, string, string, string, unknown, unknown>)];
}

function normaliseMap(map: Readonly<Record<string, AnyTransitionSpec | undefined>> | undefined): Record<string, readonly NormalTransition[]> {
  const out: Record<string, readonly NormalTransition[]> = {};
  for (const [key, spec] of Object.entries(map ?? {})) out[key] = normaliseTransitions(spec);
  return out;
}

export function normaliseState(name: string, spec: StateSpec<string, string, string, string, string, string, unknown, unknown>): NormalState {
  return {
    name,
    final: spec.type === 'final',
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: spec.tags ?? [],
    ...(spec.invoke === undefined ? {} : { invoke: spec.invoke }),
    ...(spec.compensate === undefined ? {} : { compensate: spec.compensate }),
    entry: (spec.entry ?? []),
    on: normaliseMap(spec.on),
    after: normaliseMap(spec.after),
    always: normaliseTransitions(spec.always),
    ignore: spec.ignore ?? [],
  };
}
