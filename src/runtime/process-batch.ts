import type { Queryable } from '../store/index.js';
import { loadBatch, sagaIdOf, type BatchDeps } from './batch-context.js';
import { applyInput } from './batch-inputs.js';
import { stampTrace } from './batch-observations.js';
import { applyParkedMessages } from './batch-parked.js';
import { writeBatch } from './batch-writes.js';
import type { WorkItem, WorkResult } from './work-item.js';

export type { BatchDeps } from './batch-context.js';

/**
 * Applies many instances' inputs in the caller's transaction (group commit), as a pipeline:
 * load (lock the instances, record the inbox) → apply each input to the working copies in
 * memory, in order → apply the parked messages the batch made acceptable → write each
 * changed instance once (snapshot + revision, its stream in the log = timeline + outbox,
 * timers, retry history, alerts). A poison input is dead-lettered and the batch goes on.
 * With `commit`, the writes also commit the transaction, in the same round trip where the
 * database allows: only for a caller that runs nothing after it in that transaction.
 */
export async function processBatch(tx: Queryable, items: readonly WorkItem[], deps: BatchDeps, options?: { readonly commit?: boolean }): Promise<WorkResult[]> {
  const batch = await loadBatch(tx, items, deps);
  const results: WorkResult[] = [];
  for (const item of items) {
    const id = sagaIdOf(item, batch.replays);
    const from = id === undefined ? 0 : (batch.working.get(id)?.log.length ?? 0);
    results.push(await applyInput(batch, item));
    if (id !== undefined) stampTrace(batch.working.get(id), from, deps.observer?.traceOf(item));
  }
  await applyParkedMessages(batch);
  const written = await writeBatch(tx, [...batch.working.values()], deps.streamOf, options);
  deps.observer?.written(written, results);
  return results;
}
