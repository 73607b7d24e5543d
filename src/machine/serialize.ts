import { z } from 'zod';
import type { EffectSpec, Machine } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

function effectJson(e: EffectSpec<unknown, unknown>) {
  return { kind: e.kind, ...(e.to === undefined ? {} : { to: e.to }), message: e.message };
}

/**
 * The definition as plain JSON: structure, names and JSON Schemas of events and
 * messages. Guards, context updates and payload builders are code, so they appear
 * by name (as in XState's implementations).
 */
export function machineToJSON(machine: AnyMachine) {
  const schema = (s: z.ZodType) => {
    try {
      return z.toJSONSchema(s);
    } catch {
      return {};
    }
  };
  return {
    id: machine.id,
    version: machine.version,
    ...(machine.description === undefined ? {} : { description: machine.description }),
    initial: machine.initial,
    delays: Object.fromEntries(Object.entries(machine.delays).map(([k, d]) => [k, d.ms])),
    steps: Object.fromEntries(
      Object.entries(machine.steps).map(([k, s]) => [k, { action: effectJson(s.action), ...(s.compensation ? { compensation: effectJson(s.compensation) } : {}) }]),
    ),
    states: Object.fromEntries(
      machine.stateNames.map((name) => {
        const s = machine.states[name];
        if (!s) return [name, {}];
        const tr = (ts: typeof s.always) => ts.map((t) => ({ ...t, effects: t.effects.map(effectJson) }));
        return [
          name,
          {
            ...(s.final ? { type: 'final' } : {}),
            ...(s.description ? { description: s.description } : {}),
            ...(s.tags.length ? { tags: s.tags } : {}),
            ...(s.invoke ? { invoke: s.invoke } : {}),
            ...(s.compensate ? { compensate: s.compensate } : {}),
            ...(s.entry.length ? { entry: s.entry.map(effectJson) } : {}),
            on: Object.fromEntries(Object.entries(s.on).map(([k, ts]) => [k, tr(ts)])),
            after: Object.fromEntries(Object.entries(s.after).map(([k, ts]) => [k, tr(ts)])),
            always: tr(s.always),
            ignore: s.ignore,
          },
        ];
      }),
    ),
    events: Object.fromEntries(Object.entries(machine.eventSchemas).map(([k, s]) => [k, schema(s)])),
    messages: Object.fromEntries(Object.entries(machine.messageSchemas).map(([k, s]) => [k, schema(s)])),
    guards: Object.keys(machine.guards),
    assign: Object.keys(machine.assigns),
  };
}
