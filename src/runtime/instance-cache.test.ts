import { describe, expect, it } from 'vitest';
import { InstanceCache, type CachedInstance } from './instance-cache.js';

const entry = (id: string, revision: number, over: Partial<CachedInstance> = {}): CachedInstance => ({
  id,
  machineId: 'order',
  machineVersion: 1,
  status: 'active',
  snapshotJson: JSON.stringify({ state: `S${revision}`, context: { n: revision }, seq: revision, steps: [], timers: [] }),
  pendingJson: '[]',
  revision,
  streamVersion: revision,
  xmin: String(100 + revision),
  bornAt: 1_000,
  ...over,
});

describe('InstanceCache', () => {
  it('gives the row as committed, a new copy each time, with its age', () => {
    const c = new InstanceCache(10);
    c.remember([entry('a', 3)]);
    const first = c.row('a', 3_500);
    expect(first).toMatchObject({ id: 'a', machine_id: 'order', revision: 3, stream_version: 3, xmin: '103', age_seconds: 2.5, snapshot: { state: 'S3' } });
    (first?.snapshot.context as { n: number }).n = 99;
    expect(c.row('a', 3_500)?.snapshot.context).toEqual({ n: 3 });
    expect(c.row('b', 0)).toBeUndefined();
  });

  it('keeps the newer of two reports of one instance, whichever comes last', () => {
    const c = new InstanceCache(10);
    c.remember([entry('a', 5)]);
    c.remember([entry('a', 4)]);
    expect(c.row('a', 0)?.revision).toBe(5);
    c.remember([entry('a', 6)]);
    expect(c.row('a', 0)?.revision).toBe(6);
  });

  it('drops finished instances and forgets on demand', () => {
    const c = new InstanceCache(10);
    c.remember([entry('a', 1), entry('b', 1)]);
    c.remember([entry('a', 2, { status: 'final' })]);
    c.forget(['b']);
    expect(c.has('a')).toBe(false);
    expect(c.has('b')).toBe(false);
    expect(c.size).toBe(0);
  });

  it('holds at most its capacity, the least recently written going first; capacity 0 holds nothing', () => {
    const c = new InstanceCache(2);
    c.remember([entry('a', 1), entry('b', 1)]);
    c.remember([entry('a', 2)]);
    c.remember([entry('c', 1)]);
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    const none = new InstanceCache(0);
    none.remember([entry('a', 1)]);
    expect(none.size).toBe(0);
  });

  it('holds at most maxChars characters of JSON, the least recently written going first', () => {
    const one = entry('a', 1);
    const size = one.snapshotJson.length + one.pendingJson.length;
    const c = new InstanceCache(100, 2 * size + 1);
    c.remember([entry('a', 1), entry('b', 1), entry('c', 1)]);
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([false, true, true]);
    expect(c.heldChars).toBe(2 * size);
    c.forget(['b']);
    c.remember([entry('d', 1, { snapshotJson: 'x'.repeat(3 * size) })]); // larger than the whole cache: not kept
    expect([c.has('c'), c.has('d'), c.heldChars]).toEqual([true, false, size]);
  });
});
