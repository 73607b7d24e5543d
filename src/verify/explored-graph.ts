/**
 * The explored state graph in flat arrays (compressed sparse rows): state ids are
 * BFS discovery order, so following `parent` from any id gives a shortest path.
 */
export interface ExploredGraph {
  readonly count: number;
  /** Out-edges of state s are edgeTo[edgeStart[s] .. edgeStart[s + 1]). */
  readonly edgeStart: Int32Array;
  readonly edgeTo: Int32Array;
  /** Actor index of each edge (bit position in fairness masks). */
  readonly edgeActor: Uint8Array;
  /** Action code of each edge (model-specific; decoded when printing a trace). */
  readonly edgeAction: Int32Array;
  /** The edge that first discovered each state (-1 for the initial state). */
  readonly parentEdge: Int32Array;
}

/** Edge ids from the initial state to `target`, shortest first (BFS tree). */
export function pathTo(g: ExploredGraph, target: number): number[] {
  const edges: number[] = [];
  for (let e = g.parentEdge[target] ?? -1; e >= 0; e = g.parentEdge[sourceOf(g, e)] ?? -1) edges.push(e);
  return edges.reverse();
}

/** The state an edge leaves (binary search over edgeStart). */
export function sourceOf(g: ExploredGraph, edge: number): number {
  let lo = 0;
  let hi = g.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((g.edgeStart[mid] ?? 0) <= edge) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Bit mask of actors with an enabled action in state s. */
export function enabledActors(g: ExploredGraph, s: number): number {
  let m = 0;
  for (let e = g.edgeStart[s] ?? 0, end = g.edgeStart[s + 1] ?? 0; e < end; e++) m |= 1 << (g.edgeActor[e] ?? 0);
  return m;
}

/** Shortest edge path from `from` to `to` using only states in `inside` (BFS). */
export function pathWithin(g: ExploredGraph, from: number, to: number, inside: (s: number) => boolean, allowEmpty: boolean): number[] | undefined {
  if (from === to && allowEmpty) return [];
  const via = new Map<number, number>();
  const queue = [from];
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi] ?? 0;
    for (let e = g.edgeStart[s] ?? 0, end = g.edgeStart[s + 1] ?? 0; e < end; e++) {
      const t = g.edgeTo[e] ?? 0;
      if (!inside(t) || via.has(t)) continue;
      via.set(t, e);
      if (t === to) {
        const out: number[] = [];
        for (let cur = to; ; ) {
          const pe = via.get(cur);
          if (pe === undefined) break;
          out.push(pe);
          cur = sourceOf(g, pe);
          if (cur === from) break;
        }
        return out.reverse();
      }
      queue.push(t);
    }
  }
  return undefined;
}

/**
 * Strongly connected components of the subgraph induced by `inSet`
 * (iterative Tarjan, so deep graphs do not overflow the stack).
 * Returns a component id per state (-1 outside the set) and the count.
 */
export function sccs(g: ExploredGraph, inSet: (s: number) => boolean): { comp: Int32Array; count: number } {
  const n = g.count;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const callNode: number[] = [];
  const callEdge: number[] = [];
  let next = 0;
  let count = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || !inSet(root)) continue;
    callNode.push(root);
    callEdge.push(g.edgeStart[root] ?? 0);
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (callNode.length > 0) {
      const top = callNode.length - 1;
      const v = callNode[top] ?? 0;
      const e = callEdge[top] ?? 0;
      if (e < (g.edgeStart[v + 1] ?? 0)) {
        callEdge[top] = e + 1;
        const w = g.edgeTo[e] ?? 0;
        if (!inSet(w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          callNode.push(w);
          callEdge.push(g.edgeStart[w] ?? 0);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v] ?? 0, index[w] ?? 0);
        }
        continue;
      }
      if (low[v] === index[v]) {
        for (;;) {
          const w = stack.pop() ?? 0;
          onStack[w] = 0;
          comp[w] = count;
          if (w === v) break;
        }
        count++;
      }
      callNode.pop();
      callEdge.pop();
      const parent = callNode[callNode.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent] ?? 0, low[v] ?? 0);
    }
  }
  return { comp, count };
}

/** How a liveness property fails: the system stops, or loops fairly, inside the bad set. */
export type LivenessFailure =
  | { readonly kind: 'deadlock'; readonly prefix: number[] }
  | { readonly kind: 'lasso'; readonly prefix: number[]; readonly cycle: number[] };

/**
 * Looks for a maximal path that stays in `pending` forever and is weakly fair
 * for every actor in `fairMask`: either a state in the set without successors,
 * or a cycle in an SCC of the set in which every fair actor that is enabled in
 * all of the SCC's states also takes a step inside it.
 */
export function findLivenessFailure(g: ExploredGraph, pending: (s: number) => boolean, fairMask: number): LivenessFailure | undefined {
  for (let s = 0; s < g.count; s++) {
    if (pending(s) && g.edgeStart[s] === g.edgeStart[s + 1]) return { kind: 'deadlock', prefix: pathTo(g, s) };
  }
  const { comp, count } = sccs(g, pending);
  if (count === 0) return undefined;
  const taken = new Int32Array(count);
  const enabledAll = new Int32Array(count).fill(-1);
  const nontrivial = new Uint8Array(count);
  const entry = new Int32Array(count).fill(-1);
  for (let s = 0; s < g.count; s++) {
    const c = comp[s] ?? -1;
    if (c < 0) continue;
    if ((entry[c] ?? -1) < 0) entry[c] = s;
    enabledAll[c] = (enabledAll[c] ?? 0) & enabledActors(g, s);
    for (let e = g.edgeStart[s] ?? 0, end = g.edgeStart[s + 1] ?? 0; e < end; e++) {
      if (comp[g.edgeTo[e] ?? 0] === c) {
        nontrivial[c] = 1;
        taken[c] = (taken[c] ?? 0) | (1 << (g.edgeActor[e] ?? 0));
      }
    }
  }
  let best = -1;
  for (let c = 0; c < count; c++) {
    if (!nontrivial[c]) continue;
    const owed = (enabledAll[c] ?? 0) & fairMask & ~(taken[c] ?? 0);
    if (owed !== 0) continue;
    if (best < 0 || (entry[c] ?? 0) < (entry[best] ?? 0)) best = c;
  }
  if (best < 0) return undefined;
  const start = entry[best] ?? 0;
  const inside = (s: number) => comp[s] === best;
  // Walk through one edge of every fair actor that is always enabled here, so the printed cycle is itself fair.
  const need = (enabledAll[best] ?? 0) & fairMask;
  const cycle: number[] = [];
  let at = start;
  for (let a = 0; a < 31; a++) {
    if (!(need & (1 << a))) continue;
    let edge = -1;
    for (let s = 0; s < g.count && edge < 0; s++) {
      if (!inside(s)) continue;
      for (let e = g.edgeStart[s] ?? 0, end = g.edgeStart[s + 1] ?? 0; e < end; e++) {
        if (g.edgeActor[e] === a && inside(g.edgeTo[e] ?? 0)) {
          edge = e;
          break;
        }
      }
    }
    if (edge < 0) continue;
    cycle.push(...(pathWithin(g, at, sourceOf(g, edge), inside, true) ?? []), edge);
    at = g.edgeTo[edge] ?? 0;
  }
  cycle.push(...(pathWithin(g, at, start, inside, cycle.length > 0) ?? []));
  return { kind: 'lasso', prefix: pathTo(g, start), cycle };
}
