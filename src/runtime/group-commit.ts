import { EngineStoppedError } from './errors.js';
import type { WorkItem, WorkResult } from './work-item.js';

interface Queued {
  readonly item: WorkItem;
  readonly resolve: (r: WorkResult) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Collects work from concurrent callers and commits it in batches: while one batch's
 * transaction runs, new work queues up and goes into the next one. Throughput comes
 * from sharing commits (group commit), never from weakening durability: every caller's
 * promise resolves only after its batch committed.
 */
export class GroupCommitter {
  private queue: Queued[] = [];
  private running = 0;
  private readonly idle: (() => void)[] = [];
  /** Callers waiting for room in the queue (backpressure), first come first served. */
  private readonly roomWaiters: (() => void)[] = [];
  private closed = false;
  /** At most this many items wait in the queue; a caller with more waits for room. */
  readonly maxQueued: number;

  constructor(
    private readonly runBatch: (items: readonly WorkItem[]) => Promise<WorkResult[]>,
    private readonly batchSize: number,
    private readonly concurrency: number,
    maxQueued?: number,
  ) {
    this.maxQueued = Math.max(maxQueued ?? 20 * batchSize * concurrency, batchSize);
  }

  /** Items waiting for a batch (never more than `maxQueued`). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues the items and resolves once every one of them is committed. When the queue is
   * full the caller waits for room (backpressure) instead of growing it without bound.
   */
  async submit(items: readonly WorkItem[]): Promise<WorkResult[]> {
    if (this.closed) throw new EngineStoppedError();
    const promises: Promise<WorkResult>[] = [];
    for (const item of items) {
      // Behind earlier waiters, then until there is room (a newcomer may have taken the place).
      for (let first = true; this.queue.length >= this.maxQueued || (first && this.roomWaiters.length > 0); first = false) {
        this.kick();
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      }
      promises.push(new Promise<WorkResult>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    }
    this.kick();
    return Promise.all(promises);
  }

  /** Lets waiting callers in, one per free place (each re-checks when it runs). */
  private wakeWaiters(): void {
    const room = this.maxQueued - this.queue.length;
    for (const wake of this.roomWaiters.splice(0, Math.max(0, Math.min(room, this.roomWaiters.length)))) wake();
  }

  /** Saga ids in a batch that is running: their next inputs wait, so one saga's inputs apply in the order given. */
  private readonly busy = new Set<string>();

  private kick(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) break;
      this.running += 1;
      void this.runOne(batch);
    }
    this.wakeWaiters();
    if (this.running === 0 && this.queue.length === 0 && this.roomWaiters.length === 0) for (const f of this.idle.splice(0)) f();
  }

  /** The next batch, in queue order, skipping sagas that are busy (and everything queued after them for that saga). */
  private take(): Queued[] {
    const batch: Queued[] = [];
    const keys = new Set<string>();
    const skipped = new Set<string>();
    const rest: Queued[] = [];
    let i = 0;
    for (; i < this.queue.length && batch.length < this.batchSize; i++) {
      const q = this.queue[i] as Queued;
      const key = keyOf(q.item);
      if (!this.busy.has(key) && !skipped.has(key)) {
        batch.push(q);
        keys.add(key);
      } else {
        skipped.add(key);
        rest.push(q);
      }
    }
    // No spread of the rest into a call: that overflows the stack at ~130k items.
    this.queue = i === this.queue.length ? rest : rest.concat(this.queue.slice(i));
    for (const k of keys) this.busy.add(k);
    return batch;
  }

  private async runOne(batch: Queued[]): Promise<void> {
    try {
      const results = await this.runBatch(batch.map((q) => q.item));
      batch.forEach((q, i) => q.resolve(results[i] ?? { status: 'rejected', error: new Error('batch returned no result') }));
    } catch (err) {
      for (const q of batch) q.reject(err);
    } finally {
      for (const q of batch) this.busy.delete(keyOf(q.item));
      this.running -= 1;
      this.kick();
    }
  }

  /** Stops accepting work and waits for what is queued or running. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

function keyOf(item: WorkItem): string {
  switch (item.kind) {
    case 'message':
      return item.message.key;
    case 'replay':
      return `dead-letter:${item.deadLetterId}`;
    default:
      return item.sagaId;
  }
}
