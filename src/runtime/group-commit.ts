import { EngineStoppedError } from './errors.js';
import type { WorkItem, WorkResult } from './work-item.js';

export interface GroupCommitOptions {
  /** Items per batch at most. */
  readonly batchSize: number;
  /** Batches running at once at most. */
  readonly concurrency: number;
  /** Items waiting at most (default 20 × batchSize × concurrency). */
  readonly maxQueued?: number | undefined;
  /** Items waiting before a batch starts beside a running one (default 32, at most batchSize). */
  readonly parallelMin?: number | undefined;
}

/** See GroupCommitter: the waiting items that make a batch worth running beside another. */
const DEFAULT_PARALLEL_MIN = 32;
/** See GroupCommitter.besideMin: fewer waiting items never start a batch beside another (unless parallelMin is lower). */
const BESIDE_FLOOR = 8;

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
 *
 * Work that finds no batch running starts one at once (latency when the engine is idle).
 * A batch beside a running one starts only once enough items wait (`besideMin`: as many as
 * the smallest running batch holds, 8 to `parallelMin`): a few items that would make a
 * transaction of their own join the next batch instead, which costs them at most the
 * running batch's remaining time. Measured (`ordo bench saga`'s closed
 * loop, 2 cores): starting a batch for every waiting item made 3–4 items a transaction
 * at 16 in flight and cost 3.6 ms of CPU per saga (engine + PostgreSQL); waiting for 32
 * made ~10 a transaction, 2.5 ms, and 15–40 % more sagas/s at 16 to 256 in flight. Once a
 * batch was one round trip (the instance cache), a threshold of 8 did better at 16 in flight
 * and worse at 256; following the running batches' size: 64 in flight 745 → 895 sagas/s,
 * 16: 447 → 465, 256: 1,113 → 1,055 (noise).
 */
export class GroupCommitter {
  private queue: Queued[] = [];
  private readonly idle: (() => void)[] = [];
  /** Callers waiting for room in the queue (backpressure), first come first served. */
  private readonly roomWaiters: (() => void)[] = [];
  private closed = false;
  /** At most this many items wait in the queue; a caller with more waits for room. */
  readonly maxQueued: number;
  /** Items that must be waiting before a batch starts beside a running one. */
  readonly parallelMin: number;
  private readonly batchSize: number;
  private readonly concurrency: number;

  constructor(
    private readonly runBatch: (items: readonly WorkItem[]) => Promise<WorkResult[]>,
    options: GroupCommitOptions,
  ) {
    this.batchSize = options.batchSize;
    this.concurrency = options.concurrency;
    this.maxQueued = Math.max(options.maxQueued ?? 20 * options.batchSize * options.concurrency, options.batchSize);
    this.parallelMin = Math.min(options.parallelMin ?? DEFAULT_PARALLEL_MIN, options.batchSize);
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

  /** The sizes of the batches running. */
  private readonly runningSizes: number[] = [];

  /** Batches running. */
  private get running(): number {
    return this.runningSizes.length;
  }

  /**
   * Items that must wait before a batch starts beside the running ones: as many as the
   * smallest running batch holds (at least BESIDE_FLOOR), at most `parallelMin`. Small
   * batches running (a light load) let the next one start early; large ones (a heavy load)
   * make it wait for `parallelMin`.
   */
  private besideMin(): number {
    return Math.min(this.parallelMin, Math.max(BESIDE_FLOOR, Math.min(...this.runningSizes)));
  }

  /** Saga ids in a batch that is running: their next inputs wait, so one saga's inputs apply in the order given. */
  private readonly busy = new Set<string>();

  private kick(): void {
    while (this.running < this.concurrency && this.queue.length > 0 && (this.running === 0 || this.queue.length >= this.besideMin())) {
      const batch = this.take();
      if (batch.length === 0) break;
      this.runningSizes.push(batch.length);
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
      this.runningSizes.splice(this.runningSizes.indexOf(batch.length), 1);
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
