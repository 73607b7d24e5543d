import type { Machine } from '../machine/index.js';
import { InvalidEngineOptionError, UnknownMachineError } from './errors.js';

export type AnyMachine = Machine<string, { type: string }, unknown>;

/** Every deployed version of every machine, and which is newest. */
export interface MachineRegistry {
  get(id: string, version: number): AnyMachine | undefined;
  newest(id: string): AnyMachine;
  has(id: string, version: number): boolean;
  ids(): string[];
}

export function createMachineRegistry(machines: readonly AnyMachine[]): MachineRegistry {
  if (machines.length === 0) throw new InvalidEngineOptionError('machines', 'must list at least one machine');
  const byKey = new Map<string, AnyMachine>();
  const newest = new Map<string, AnyMachine>();
  for (const m of machines) {
    const key = `${m.id}@${m.version}`;
    if (byKey.has(key)) throw new InvalidEngineOptionError('machines', `lists ${key} twice`);
    byKey.set(key, m);
    const cur = newest.get(m.id);
    if (!cur || cur.version < m.version) newest.set(m.id, m);
  }
  return {
    get: (id, version) => byKey.get(`${id}@${version}`),
    has: (id, version) => byKey.has(`${id}@${version}`),
    newest(id) {
      const m = newest.get(id);
      if (!m) throw new UnknownMachineError(id, [...newest.keys()]);
      return m;
    },
    ids: () => [...newest.keys()],
  };
}

/**
 * The event that takes the failure path when a step's command failed for good
 * (non-retryable, or attempts exhausted). For an action: the transition out of the
 * current state marked `fails: step`. For a compensation: the transition out of the
 * compensating state that does not confirm it (e.g. RefundFailed). Undefined when
 * the machine declares none; the engine then parks the saga with an alert.
 */
export function failureEventFor(machine: AnyMachine, state: string, step: string, compensation: boolean): string | undefined {
  const s = machine.states[state];
  if (!s) return undefined;
  for (const [event, ts] of Object.entries(s.on)) {
    if (!compensation && ts.some((t) => t.fails === step)) return event;
  }
  if (compensation && s.compensate === step) {
    for (const [event, ts] of Object.entries(s.on)) if (ts.every((t) => t.compensated === undefined)) return event;
  }
  return undefined;
}
