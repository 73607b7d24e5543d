import type { Queryable } from '../store/index.js';
import { loadBatch, sagaIdOf, type BatchDeps } from './batch-context.js';
import { batchFromCache } from './batch-from-cache.js';
import { applyInput } from './batch-inputs.js';
import { stampTrace } from './batch-observations.js';
import { applyParkedMessages } from './batch-parked.js';
import { writeBatch } from './batch-writes.js';
import { BatchCacheMissError } from './errors.js';
import type { CachedInstance, InstanceCache } from './instance-cache.js';
import type { WorkItem, WorkResult } from './work-item.js';

export type { BatchDeps } from './batch-context.js';

export interface BatchOptions {
  /**
   * Commit in the writes' round trip where the database allows: only for a caller that
   * runs nothing after it in that transaction.
   */
  readonly commit?: boolean;
  /**
   * The engine's instance cache. With `trust`, a batch of messages for cached sagas and
   * starts skips its load (see batchFromCache) and fails with BatchCacheMissError when
   * that was wrong: run it again without trust. `written` gets the instances as committed.
   */
  readonly cache?: BatchCache;
}

export interface BatchCache {
  readonly instances: InstanceCache;
  readonly trust: boolean;
  /** The batch's writes went (its instances as written; whether it was built from the cache). */
  readonly written: (rows: CachedInstance[], fromCache: boolean) => void;
}

/**
 * Applies many instances' inputs in the caller's transaction (group commit), as a pipeline:
 * load (lock the instances, record the inbox) → apply each input to the working copies in
 * memory, in order → apply the parked messages the batch made acceptable → write each
 * changed instance once (snapshot + revision, its stream in the log = timeline + outbox,
 * timers, retry history, alerts). A poison input is dead-lettered and the batch goes on.
 * A batch built from the instance cache has no load: one round trip in all.
 */
export async function processBatch(tx: Queryable, items: readonly WorkItem[], deps: BatchDeps, options: BatchOptions = {}): Promise<WorkResult[]> {
  const cache = options.cache;
  const cached = cache?.trust === true ? batchFromCache(tx, items, deps, cache.instances) : undefined;
  try {
    const batch = cached?.batch ?? (await loadBatch(tx, items, deps));
    const results: WorkResult[] = [];
    for (const item of items) {
      const id = sagaIdOf(item, batch.replays);
      const from = id === undefined ? 0 : (batch.working.get(id)?.log.length ?? 0);
      results.push(await applyInput(batch, item));
      if (id !== undefined) stampTrace(batch.working.get(id), from, deps.observer?.traceOf(item));
    }
    await applyParkedMessages(batch);
    const written = await writeBatch(tx, [...batch.working.values()], deps.streamOf, {
      ...(options.commit === true ? { commit: true } : {}),
      ...(cached ? { checks: cached.checks } : {}),
      remember: cache !== undefined,
    });
    deps.observer?.written(written.instances, results);
    cache?.written(written.rows, cached !== undefined);
    return results;
  } catch (err) {
    throw cached && !(err instanceof BatchCacheMissError) ? new BatchCacheMissError(err) : err;
  }
}
