import { describe, expect, it } from 'vitest';
import { KeyedWindow } from './keyed-window.js';

/** A seeded generator, so a failure names the run that found it. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Window = Pick<KeyedWindow<string>, 'push' | 'take' | 'finish'>;

/**
 * Feeds a partition of `records` records over `keys` keys into a window, finishes running
 * records in random order, and returns every broken promise: a key's records started out of
 * offset order or two at once, more than `limit` running, or an offset committed past an
 * unfinished record (what a crash then would lose).
 */
function violations(make: (limit: number) => Window, seed: number, limit: number, keys = 7, records = 200): string[] {
  const rnd = random(seed);
  const w = make(limit);
  const keyOf = new Map<bigint, string>();
  const finished = new Set<bigint>();
  const lastStarted = new Map<string, bigint>();
  const running = new Map<bigint, string>();
  const problems: string[] = [];
  let next = 0n;
  let committed = 0n;
  while (finished.size < records) {
    // Records arrive in bursts (a fetch) and finish slower than they arrive, so many run at once.
    for (let burst = Math.floor(rnd() * 4); burst > 0 && next < BigInt(records); burst--) {
      const key = `k${Math.floor(rnd() * keys)}`;
      keyOf.set(next, key);
      w.push(next, key, key);
      next += 1n;
    }
    for (const { offset } of w.take()) {
      const key = keyOf.get(offset) as string;
      if ([...running.values()].includes(key)) problems.push(`${key} twice at once (offset ${offset})`);
      const before = lastStarted.get(key);
      if (before !== undefined && before > offset) problems.push(`${key}: offset ${offset} after ${before}`);
      lastStarted.set(key, offset);
      running.set(offset, key);
      if (running.size > limit) problems.push(`${running.size} running, limit ${limit}`);
    }
    const busy = [...running.keys()];
    if (busy.length === 0 || (next < BigInt(records) && rnd() < 0.6)) continue;
    const done = busy[Math.floor(rnd() * busy.length)] as bigint;
    running.delete(done);
    finished.add(done);
    const { commit } = w.finish(done);
    if (commit === undefined) continue;
    if (commit < committed) problems.push(`commit went back from ${committed} to ${commit}`);
    for (let o = 0n; o < commit; o++) if (!finished.has(o)) problems.push(`committed ${commit} with offset ${o} unfinished`);
    committed = commit;
  }
  if (committed !== BigInt(records)) problems.push(`ended at ${committed}, not ${records}`);
  return [...new Set(problems)];
}

/** Broken variant: hands out every waiting record, ignoring keys (a plain concurrent dispatcher). */
class IgnoresKeys extends KeyedWindow<string> {
  override take() {
    const got = super.take();
    // Clear the key bookkeeping so the next take() hands out the same keys again.
    (this as unknown as { busy: Set<string> }).busy.clear();
    return got;
  }
}

/** Broken variant: commits past the record just finished, gaps or not. */
class CommitsHighest extends KeyedWindow<string> {
  private highest = -1n;
  override finish(offset: bigint) {
    const r = super.finish(offset);
    if (offset > this.highest) this.highest = offset;
    return { commit: this.highest + 1n, released: r.released };
  }
}

describe('KeyedWindow: several records of a partition at once, in order per key', () => {
  const seeds = Array.from({ length: 30 }, (_, i) => i + 1);

  it('keeps every key in offset order, one at a time, within the limit, and commits only gap-free prefixes', () => {
    for (const seed of seeds) for (const limit of [2, 8, 64]) expect(violations((l) => new KeyedWindow(l), seed, limit), `seed ${seed}, limit ${limit}`).toEqual([]);
  });

  it('with a limit of 1 runs the records one at a time in offset order, as a serial consumer', () => {
    const w = new KeyedWindow<string>(1);
    ['a', 'b', 'a', 'c'].forEach((k, i) => w.push(BigInt(i), k, k));
    const order: bigint[] = [];
    for (let [next] = w.take(); next; [next] = w.take()) {
      order.push(next.offset);
      expect(w.take()).toEqual([]);
      expect(w.finish(next.offset).commit).toBe(next.offset + 1n);
    }
    expect(order).toEqual([0n, 1n, 2n, 3n]);
  });

  it('holds back the commit behind a slow record and releases everything finished behind it at once', () => {
    const w = new KeyedWindow<string>(8);
    ['slow', 'b', 'c'].forEach((k, i) => w.push(BigInt(i), k, k));
    expect(w.take().map((t) => t.offset)).toEqual([0n, 1n, 2n]);
    expect(w.finish(1n)).toEqual({ commit: undefined, released: 0 });
    expect(w.finish(2n)).toEqual({ commit: undefined, released: 0 });
    expect(w.finish(0n)).toEqual({ commit: 3n, released: 3 });
    expect(w.size).toBe(0);
  });

  it('catches a dispatcher that ignores keys (the check can fail)', () => {
    expect(seeds.some((seed) => violations((l) => new IgnoresKeys(l), seed, 8).some((v) => v.includes('twice at once') || v.includes(' after ')))).toBe(true);
  });

  it('catches a commit past an unfinished record (the check can fail)', () => {
    expect(seeds.some((seed) => violations((l) => new CommitsHighest(l), seed, 8).some((v) => v.includes('unfinished')))).toBe(true);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new KeyedWindow(0)).toThrow(RangeError);
    expect(() => new KeyedWindow(1.5)).toThrow(/positive integer/);
  });
});
