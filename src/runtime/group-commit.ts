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
  private readonly queue: Queued[] = [];
  private running = 0;
  private readonly idle: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly runBatch: (items: readonly WorkItem[]) => Promise<WorkResult[]>,
    private readonly batchSize: number,
    private readonly concurrency: number,
  ) {}

  submit(items: readonly WorkItem[]): Promise<WorkResult[]> {
    if (this.closed) return Promise.reject(new EngineStoppedError());
    const promises = items.map((item) => new Promise<WorkResult>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    this.kick();
    return Promise.all(promises);
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
    if (this.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
  }

  /** The next batch, in queue order, skipping sagas that are busy (and everything queued after them for that saga). */
  private take(): Queued[] {
    const batch: Queued[] = [];
    const keys = new Set<string>();
    const skipped = new Set<string>();
    const rest: Queued[] = [];
    for (const q of this.queue) {
      const key = keyOf(q.item);
      if (batch.length < this.batchSize && !this.busy.has(key) && !skipped.has(key)) {
        batch.push(q);
        keys.add(key);
      } else {
        skipped.add(key);
        rest.push(q);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
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
