import type { Machine, NormalTransition } from './types.js';

export type EdgeKind = 'event' | 'timer' | 'always';

/** One arrow of the state graph, as drawn and as explored. */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** Event name, delay name, or `always`. */
  readonly trigger: string;
  readonly guard?: string;
  readonly transition: NormalTransition;
}

type AnyMachine = Machine<string, { type: string }, unknown>;

export function edges(machine: AnyMachine): Edge[] {
  const out: Edge[] = [];
  for (const name of machine.stateNames) {
    const s = machine.states[name];
    if (!s) continue;
    const add = (kind: EdgeKind, trigger: string, ts: readonly NormalTransition[]) => {
      for (const t of ts) out.push({ from: name, to: t.target, kind, trigger, ...(t.guard ? { guard: t.guard } : {}), transition: t });
    };
    for (const [ev, ts] of Object.entries(s.on)) add('event', ev, ts);
    for (const [delay, ts] of Object.entries(s.after)) add('timer', delay, ts);
    add('always', 'always', s.always);
  }
  return out;
}

/** The set of states each state can move to in one transition. */
export function adjacency(machine: AnyMachine): Map<string, Set<string>> {
  const adj = new Map<string, Set<string>>(machine.stateNames.map((n) => [n, new Set<string>()]));
  for (const e of edges(machine)) adj.get(e.from)?.add(e.to);
  return adj;
}

/** States reachable from `start` (inclusive) following `adj`. */
export function reachableFrom(adj: ReadonlyMap<string, ReadonlySet<string>>, start: Iterable<string>): Set<string> {
  const seen = new Set<string>(start);
  const queue = [...seen];
  for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
    for (const n of adj.get(s) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}
