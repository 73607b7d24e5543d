import { AsyncResource } from 'node:async_hooks';
import type { Db } from '../store/index.js';
import { stagingTx, type StagedTx } from './staged-writes.js';

/**
 * One message's work inside a service transaction: inbox record, state change, outbox. Must
 * be safe to run again. Its `tx` stages writes (staged-writes.ts): they go with the next
 * read, or with the batch's COMMIT.
 */
export type BatchJob<T> = (tx: StagedTx) => Promise<T>;

interface Queued {
  readonly job: BatchJob<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export interface ServiceBatcher {
  /** Runs `job` in a transaction shared with other jobs submitted meanwhile; resolves once that transaction committed. */
  submit<T>(job: BatchJob<T>): Promise<T>;
  /** Waits for the batches running or queued. */
  drain(): Promise<void>;
}

export interface ServiceBatchOptions {
  /** Jobs per transaction at most (default 64; 1 = a transaction per message, as before). */
  readonly maxBatch?: number;
  /**
   * Transactions at once (default 1). More only where handlers share no rows: two batches
   * that lock the same rows in different orders deadlock (the fallback copes, after the
   * server's deadlock timeout).
   */
  readonly concurrency?: number;
}

/**
 * Group commit for a service's handlers: the messages a transport hands over at once (different
 * keys) share one transaction, so a burst costs one commit instead of one each, and a row every
 * message touches (a SKU's stock) is locked once per batch instead of being fought over by
 * concurrent transactions. Nothing resolves before its batch committed (ack after commit, as
 * before). When a batch fails — one bad message, a conflict, a deadlock — each of its jobs runs
 * again in a transaction of its own, so a bad message fails alone and its batch-mates commit.
 */
export function serviceBatcher(db: Db, options: ServiceBatchOptions = {}): ServiceBatcher {
  const maxBatch = options.maxBatch ?? 64;
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  let queue: Queued[] = [];
  let running = 0;
  const idle: (() => void)[] = [];

  const alone = async (q: Queued): Promise<void> => {
    try {
      q.resolve(await inTransaction(db, async (tx) => [await q.job(tx)]).then((r) => r[0]));
    } catch (err) {
      q.reject(err);
    }
  };

  async function runBatch(batch: Queued[]): Promise<void> {
    if (batch.length === 1) return alone(batch[0] as Queued);
    let results: unknown[];
    try {
      results = await inTransaction(db, async (tx) => {
        const out: unknown[] = [];
        for (const q of batch) out.push(await q.job(tx));
        return out;
      });
    } catch {
      // Which one was to blame is not known (nor whether it was one): each on its own, in order.
      for (const q of batch) await alone(q);
      return;
    }
    batch.forEach((q, i) => q.resolve(results[i]));
  }

  function kick(): void {
    while (running < concurrency && queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      running += 1;
      void runBatch(batch).finally(() => {
        running -= 1;
        kick();
      });
    }
    if (running === 0 && queue.length === 0) for (const f of idle.splice(0)) f();
  }

  return {
    submit<T>(job: BatchJob<T>): Promise<T> {
      // The batch runs in the context of whichever submit kicked it off; each job keeps its own
      // submitter's (its message's trace span), or the reports it writes would continue the
      // trace of the first message in the batch.
      const own = AsyncResource.bind(job);
      const done = new Promise<T>((resolve, reject) => queue.push({ job: own, resolve: resolve as (v: unknown) => void, reject }));
      // Let the jobs handed over in this turn of the event loop join the same batch.
      if (queue.length === 1) setImmediate(kick);
      return done;
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => idle.push(r));
    },
  };
}

/** Runs `jobs` in one transaction whose writes are staged; the last of them go with the COMMIT (one round trip). */
function inTransaction(db: Db, jobs: (tx: StagedTx) => Promise<unknown[]>): Promise<unknown[]> {
  return db.transaction(async (raw) => {
    const tx = stagingTx(raw);
    const out = await jobs(tx);
    await tx.flush({ commit: true });
    return out;
  });
}
