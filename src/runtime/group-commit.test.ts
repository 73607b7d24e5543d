import { describe, expect, it } from 'vitest';
import { GroupCommitter } from './group-commit.js';
import type { WorkItem, WorkResult } from './work-item.js';

const msg = (key: string, id: string): WorkItem => ({ kind: 'message', message: { id, key, type: 'E' } });

describe('group commit', () => {
  it('batches concurrent work, never runs one saga in two batches at once, and keeps its order', async () => {
    const seen: string[][] = [];
    let running = 0;
    let maxRunning = 0;
    const active = new Set<string>();
    const committer = new GroupCommitter(
      async (items) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        const keys = items.map((i) => (i.kind === 'message' ? i.message.key : ''));
        for (const k of new Set(keys)) {
          expect(active.has(k)).toBe(false);
          active.add(k);
        }
        seen.push(items.map((i) => (i.kind === 'message' ? i.message.id : '')));
        await new Promise((r) => setTimeout(r, 5));
        for (const k of keys) active.delete(k);
        running -= 1;
        return items.map((): WorkResult => ({ status: 'duplicate', messageId: '' }));
      },
      { batchSize: 2, concurrency: 3 },
    );
    const calls = [
      committer.submit([msg('a', 'a1'), msg('a', 'a2'), msg('b', 'b1')]),
      committer.submit([msg('a', 'a3'), msg('c', 'c1'), msg('b', 'b2'), msg('d', 'd1')]),
    ];
    await Promise.all(calls);
    await committer.close();
    const flat = seen.flat();
    expect(flat.sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'd1']);
    const order = seen.flat();
    const pos = (id: string) => seen.findIndex((b) => b.includes(id)) * 10 + (seen.find((b) => b.includes(id))?.indexOf(id) ?? 0);
    expect(pos('a1')).toBeLessThan(pos('a2'));
    expect(pos('a2')).toBeLessThan(pos('a3'));
    expect(pos('b1')).toBeLessThan(pos('b2'));
    expect(order).toHaveLength(7);
    expect(maxRunning).toBeGreaterThan(1);
    await expect(committer.submit([msg('x', 'x1')])).rejects.toMatchObject({ code: 'ENGINE_STOPPED' });
  });
});

describe('group commit under a flood', () => {
  it('takes 500k submissions without overflowing: callers wait for room, the queue stays bounded, all commit in order', async () => {
    let maxQueued = 0;
    const lastSeen = new Map<string, number>();
    let outOfOrder = 0;
    const committer: GroupCommitter = new GroupCommitter(
      async (items) => {
        maxQueued = Math.max(maxQueued, committer.queued);
        for (const i of items) {
          if (i.kind !== 'message') continue;
          const n = Number(i.message.id.split(':')[1]);
          if ((lastSeen.get(i.message.key) ?? -1) >= n) outOfOrder += 1;
          lastSeen.set(i.message.key, n);
        }
        await new Promise((r) => setImmediate(r));
        return items.map((i): WorkResult => ({ status: 'duplicate', messageId: i.kind === 'message' ? i.message.id : '' }));
      },
      { batchSize: 200, concurrency: 4 },
    );
    // One saga's inputs within one call commit in the order given (calls are not ordered among themselves).
    const one = (key: string, n: number) => msg(key, `${key}:${n}`);
    const big = committer.submit(Array.from({ length: 400_000 }, (_, n) => one(`big-${n % 1000}`, n)));
    const small = Array.from({ length: 100 }, (_, c) => committer.submit(Array.from({ length: 1000 }, (_, j) => one(`small-${c}-${j % 10}`, j))));
    const results = [await big, ...(await Promise.all(small))].flat();
    expect(results).toHaveLength(500_000);
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(committer.maxQueued);
    expect(outOfOrder).toBe(0);
    // Not wedged: the next submission goes through.
    await expect(committer.submit([msg('after', 'after:1')])).resolves.toHaveLength(1);
    await committer.close();
  }, 120_000);
});

describe('group commit: a batch beside a running one', () => {
  /** A committer whose batches wait until released, recording each batch's ids. */
  function held(options: { batchSize: number; concurrency: number; parallelMin?: number }) {
    const batches: string[][] = [];
    const release: (() => void)[] = [];
    const committer = new GroupCommitter(async (items) => {
      batches.push(items.map((i) => (i.kind === 'message' ? i.message.id : '')));
      await new Promise<void>((r) => release.push(r));
      return items.map((): WorkResult => ({ status: 'duplicate', messageId: '' }));
    }, options);
    return { committer, batches, releaseAll: () => release.splice(0).forEach((r) => r()) };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('starts at once when idle, waits for parallelMin items before running a second batch, and lets the few join the next', async () => {
    const { committer, batches, releaseAll } = held({ batchSize: 100, concurrency: 4, parallelMin: 3 });
    const first = committer.submit([msg('a', 'a1')]);
    await tick();
    expect(batches).toEqual([['a1']]); // idle: no waiting for company
    const few = committer.submit([msg('b', 'b1'), msg('c', 'c1')]);
    await tick();
    expect(batches).toHaveLength(1); // two waiting: not worth a transaction beside the running one
    const more = committer.submit([msg('d', 'd1')]);
    await tick();
    expect(batches).toEqual([['a1'], ['b1', 'c1', 'd1']]); // three: a second batch
    const late = committer.submit([msg('e', 'e1')]);
    await tick();
    expect(batches).toHaveLength(2);
    releaseAll(); // both finish: the one left waiting goes at once
    await Promise.all([first, few, more]);
    await tick();
    expect(batches).toEqual([['a1'], ['b1', 'c1', 'd1'], ['e1']]);
    releaseAll();
    await late;
    await committer.close();
  });

  it('waits for as many items as the smallest running batch holds, at least 8, at most parallelMin', async () => {
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => msg(`${prefix}${i}`, `${prefix}${i}`));
    const { committer, batches, releaseAll } = held({ batchSize: 100, concurrency: 4, parallelMin: 32 });
    const done = [committer.submit(ids('a', 20))];
    await tick();
    done.push(committer.submit(ids('b', 19)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20]); // 19 waiting beside a batch of 20: not yet
    done.push(committer.submit(ids('c', 1)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20, 20]); // as many as it holds: a second batch
    done.push(committer.submit(ids('d', 7)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20, 20]);
    done.push(committer.submit(ids('e', 13)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20, 20, 20]);
    releaseAll();
    await Promise.all(done);
    // Beside a batch of 3: 8 must wait; beside one of 100: 32.
    const small = [committer.submit(ids('f', 3))];
    await tick();
    small.push(committer.submit(ids('g', 7)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20, 20, 20, 3]);
    small.push(committer.submit(ids('h', 1)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([20, 20, 20, 3, 8]);
    releaseAll();
    await Promise.all(small);
    const large = [committer.submit(ids('i', 100))];
    await tick();
    large.push(committer.submit(ids('j', 31)));
    await tick();
    expect(batches).toHaveLength(6);
    large.push(committer.submit(ids('k', 1)));
    await tick();
    expect(batches.map((b) => b.length).slice(5)).toEqual([100, 32]);
    releaseAll();
    await Promise.all(large);
    await committer.close();
  });

  it('defaults to 32 waiting items, never more than a batch', async () => {
    expect(new GroupCommitter(() => Promise.resolve([]), { batchSize: 200, concurrency: 4 }).parallelMin).toBe(32);
    expect(new GroupCommitter(() => Promise.resolve([]), { batchSize: 10, concurrency: 4 }).parallelMin).toBe(10);
    const { committer, batches, releaseAll } = held({ batchSize: 2, concurrency: 3 });
    const all = committer.submit(['1', '2', '3', '4', '5'].map((n) => msg(n, n)));
    await tick();
    expect(batches).toEqual([['1', '2'], ['3', '4']]); // a full batch is always worth running
    releaseAll();
    await tick();
    releaseAll();
    await all;
    await committer.close();
  });
});
