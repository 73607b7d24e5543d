import { describeAction, successors, viewOf, type SystemModel, type TraceStep } from '../verify/index.js';

/**
 * The shortest path of a system model to a goal state, in the checker's trace shape
 * (plain JSON, as the CLI writes it). The checker reports paths only to violations;
 * a fault trace that ends well is exactly what a regression test wants to replay.
 */
export function shortestTrace(m: SystemModel, goal: (s: Uint8Array) => boolean): TraceStep[] {
  const key = (s: Uint8Array) => s.join(',');
  const init = m.initial();
  const seen = new Map<string, { prev: Uint8Array | undefined; action: number }>([[key(init), { prev: undefined, action: 0 }]]);
  const queue: Uint8Array[] = [init];
  const scratch = new Uint8Array(m.width);
  let found: Uint8Array | undefined = goal(init) ? init : undefined;
  for (let i = 0; i < queue.length && !found; i++) {
    const s = queue[i] as Uint8Array;
    successors(m, s, scratch, (next, _actor, action) => {
      if (found || seen.has(key(next))) return;
      const copy = next.slice();
      seen.set(key(copy), { prev: s, action });
      queue.push(copy);
      if (goal(copy)) found = copy;
    });
  }
  if (!found) throw new Error('goal unreachable');
  const path: { s: Uint8Array; prev: Uint8Array | undefined; action: number }[] = [];
  for (let s: Uint8Array | undefined = found; s; s = seen.get(key(s))?.prev) path.unshift({ s, ...(seen.get(key(s)) ?? { prev: undefined, action: 0 }) });
  const steps = path.map((p, n) => {
    const v = viewOf(m, p.s);
    const d = p.prev ? describeAction(m, p.prev, p.action) : { actor: 'init', action: 'start', order: 0 };
    return { step: n, ...d, states: v.keys.map((o) => o.state), shared: v.shared, keys: v.keys };
  });
  return JSON.parse(JSON.stringify(steps)) as TraceStep[];
}
