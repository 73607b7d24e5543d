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
      2,
      3,
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
