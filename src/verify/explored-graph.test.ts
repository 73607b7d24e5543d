import { describe, expect, it } from 'vitest';
import { findLivenessFailure, sccs, type ExploredGraph } from './explored-graph.js';

/** Builds a graph from adjacency lists of [target, actor]; ids must be in BFS order from 0. */
function graph(adj: readonly (readonly (readonly [number, number])[])[]): ExploredGraph {
  const edgeStart: number[] = [];
  const edgeTo: number[] = [];
  const edgeActor: number[] = [];
  const parentEdge = new Int32Array(adj.length).fill(-1);
  adj.forEach((out, s) => {
    edgeStart.push(edgeTo.length);
    for (const [t, a] of out) {
      if (t !== 0 && parentEdge[t] === -1) parentEdge[t] = edgeTo.length;
      edgeTo.push(t);
      edgeActor.push(a);
    }
    void s;
  });
  edgeStart.push(edgeTo.length);
  return {
    count: adj.length,
    edgeStart: Int32Array.from(edgeStart),
    edgeTo: Int32Array.from(edgeTo),
    edgeActor: Uint8Array.from(edgeActor),
    edgeAction: Int32Array.from(edgeTo.map((_, e) => e)),
    parentEdge,
  };
}

const WORKER = 0;
const FINISHER = 1;
const FAIR = (1 << WORKER) | (1 << FINISHER);

describe('liveness under weak fairness', () => {
  it('finds strongly connected components', () => {
    const g = graph([[[1, 0]], [[2, 0]], [[1, 0], [3, 0]], []]);
    const { comp } = sccs(g, () => true);
    expect(comp[1]).toBe(comp[2]);
    expect(new Set([comp[0], comp[1], comp[3]]).size).toBe(3);
  });

  it('a loop the finisher could always leave is unfair, so no violation', () => {
    // 0 → 1 ⇄ 2, and from both 1 and 2 the finisher can reach the goal 3.
    const g = graph([[[1, WORKER]], [[2, WORKER], [3, FINISHER]], [[1, WORKER], [3, FINISHER]], []]);
    expect(findLivenessFailure(g, (s) => s !== 3, FAIR)).toBeUndefined();
  });

  it('a loop where the finisher is only sometimes enabled is a fair lasso', () => {
    const g = graph([[[1, WORKER]], [[2, WORKER], [3, FINISHER]], [[1, WORKER]], []]);
    const f = findLivenessFailure(g, (s) => s !== 3, FAIR);
    expect(f?.kind).toBe('lasso');
    if (f?.kind !== 'lasso') return;
    expect(f.prefix.map((e) => g.edgeTo[e])).toEqual([1]);
    expect(f.cycle.map((e) => g.edgeTo[e])).toEqual([2, 1]);
  });

  it('an unfair actor does not rescue the loop, and a stop in a pending state is a deadlock', () => {
    const UNFAIR = 2;
    const loop = graph([[[1, WORKER]], [[2, WORKER], [3, UNFAIR]], [[1, WORKER], [3, UNFAIR]], []]);
    expect(findLivenessFailure(loop, (s) => s !== 3, FAIR)?.kind).toBe('lasso');
    const stuck = graph([[[1, WORKER], [2, WORKER]], [], []]);
    const f = findLivenessFailure(stuck, (s) => s !== 2, FAIR);
    expect(f).toEqual({ kind: 'deadlock', prefix: [0] });
  });
});
