import type { Effect } from '../machine/index.js';
import { ModelOptionsError } from './errors.js';
import type { SystemDefinition } from './system-definition.js';

/** A command one machine effect puts in a participant's queue. */
export interface RoutedCommand {
  readonly to: string;
  readonly message: string;
  readonly payload: unknown;
}

/** Where one effect of the machine goes: the commands it puts in the participants' queues (none for a timer, or an effect the wiring does not carry). */
export type EffectRouter = (effect: Effect) => readonly RoutedCommand[];

/**
 * The wiring of a system as a function of the machine's effects, the one place the
 * checker (and through its tables the Promela and TLA+ exports) and the replay harness
 * learn what reaches whom:
 * - orchestration: each `send` is a command to its `to`; published events reach nobody;
 * - choreography: the saga's commands stay in its log (the shop's relay filter drops
 *   them); each published event becomes, for every participant subscribed to it, the
 *   command its decider handles, in publish order. A participant sees every event on
 *   the order's topic and acks the ones it does not subscribe to without a change, so
 *   those are left out of its queue (a step that changes nothing, and the queues stay short).
 */
export function effectRouter(def: Pick<SystemDefinition, 'wiring' | 'participants' | 'machine'>): EffectRouter {
  const wiring = def.wiring;
  if (wiring.mode === 'orchestration') return (e) => (e.kind === 'send' ? [{ to: e.to, message: e.message, payload: e.payload }] : []);
  if (wiring.mode !== 'choreography') throw new ModelOptionsError('wiring', `mode must be orchestration or choreography, got ${String((wiring as { mode: unknown }).mode)}`);
  if (typeof wiring.subscriptions !== 'object' || wiring.subscriptions === null) throw new ModelOptionsError('wiring', 'choreography needs subscriptions: { participant: { PublishedEvent: { command } } }');
  const names = def.participants.map((p) => p.name);
  const byEvent = new Map<string, { to: string; command: string; payload?: (published: unknown) => unknown }[]>();
  for (const [to, subs] of Object.entries(wiring.subscriptions)) {
    if (!names.includes(to)) throw new ModelOptionsError('wiring', `subscriptions of "${to}": no such participant; known: ${names.join(', ')}`);
    for (const [event, sub] of Object.entries(subs)) {
      if (!(event in def.machine.messageSchemas)) throw new ModelOptionsError('wiring', `${to} subscribes to ${event}, which the machine never publishes`);
      if (typeof sub.command !== 'string' || sub.command.length === 0) throw new ModelOptionsError('wiring', `${to} on ${event}: the subscription needs the command its decider handles`);
      byEvent.set(event, [...(byEvent.get(event) ?? []), { to, command: sub.command, ...(sub.payload ? { payload: sub.payload } : {}) }]);
    }
  }
  const payloadOf = (s: { to: string; command: string; payload?: (published: unknown) => unknown }, event: string, published: unknown): unknown => {
    if (!s.payload) return published;
    try {
      return s.payload(published);
    } catch (err) {
      throw new ModelOptionsError('wiring', `${s.to} cannot take ${event} as ${s.command}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (e) => (e.kind === 'publish' ? (byEvent.get(e.message) ?? []).map((s) => ({ to: s.to, message: s.command, payload: payloadOf(s, e.message, e.payload) })) : []);
}
