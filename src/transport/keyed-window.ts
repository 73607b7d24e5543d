/*
 * The records of one partition between fetch and commit, handed out several at a time
 * without breaking per-key order: a record starts only when no earlier record of its key is
 * waiting or running, at most `limit` run at once, and the offset to commit moves only over
 * a gap-free prefix of finished records (a record finished early, behind a slow one, is
 * committed with it). A crash then redelivers from the oldest unfinished record: the
 * finished ones after it come again and the inbox absorbs them; nothing is skipped.
 */

interface Slot<T> {
  readonly offset: bigint;
  readonly key: string;
  readonly item: T;
  state: 'waiting' | 'running' | 'done';
}

export class KeyedWindow<T> {
  /** Every record not yet committable, in offset order. */
  private slots: Slot<T>[] = [];
  private readonly busy = new Set<string>();
  private runningCount = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  /** Records held (waiting, running, or finished behind an unfinished one). */
  get size(): number {
    return this.slots.length;
  }

  get running(): number {
    return this.runningCount;
  }

  /** Adds the next record of the partition (offsets must rise). */
  push(offset: bigint, key: string, item: T): void {
    this.slots.push({ offset, key, item, state: 'waiting' });
  }

  /** The records that may start now, oldest first; they count as running until `finish`. */
  take(): { offset: bigint; item: T }[] {
    const out: { offset: bigint; item: T }[] = [];
    const blocked = new Set<string>();
    for (const slot of this.slots) {
      if (this.runningCount >= this.limit) break;
      if (slot.state !== 'waiting') continue;
      if (this.busy.has(slot.key) || blocked.has(slot.key)) {
        blocked.add(slot.key); // a later record of this key waits behind this one
        continue;
      }
      slot.state = 'running';
      this.busy.add(slot.key);
      this.runningCount += 1;
      out.push({ offset: slot.offset, item: slot.item });
    }
    return out;
  }

  /**
   * Marks a running record finished; returns the offset to commit (the one after the last of
   * the gap-free finished prefix) if that prefix grew, else undefined, and how many records left.
   */
  finish(offset: bigint): { commit: bigint | undefined; released: number } {
    const slot = this.slots.find((s) => s.offset === offset);
    if (!slot || slot.state !== 'running') throw new Error(`record ${offset} is not running`);
    slot.state = 'done';
    this.busy.delete(slot.key);
    this.runningCount -= 1;
    let n = 0;
    while (n < this.slots.length && (this.slots[n] as Slot<T>).state === 'done') n += 1;
    if (n === 0) return { commit: undefined, released: 0 };
    const last = this.slots[n - 1] as Slot<T>;
    this.slots = this.slots.slice(n);
    return { commit: last.offset + 1n, released: n };
  }
}
