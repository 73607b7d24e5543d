import { recordInboxAllStatement, type Statement } from '../store/index.js';
import { BatchContext, messageIdsOf, sagaIdOf, type BatchDeps } from './batch-context.js';
import type { InstanceCache } from './instance-cache.js';
import { lockOnlyStatement } from './instance-sql.js';
import { noneParkedStatement } from './parked-messages.js';
import type { WorkItem } from './work-item.js';
import type { InstanceRow } from './working-instance.js';

/**
 * A batch built from the engine's instance cache instead of a load — no round trip before
 * the writes — when every input is a message for a cached saga or a start. It assumes what
 * the load would have found: the cached rows, every message id new, no parked messages.
 * The returned checks run first in the writes' round trip and raise when an assumption was
 * wrong (they take the same locks as the load, in the same order); the writes' guards
 * (revision and xmin of each row, each stream's version, a new instance's key) catch a row
 * written since. Undefined when an input needs the load.
 */
export function batchFromCache(tx: BatchContext['tx'], items: readonly WorkItem[], deps: BatchDeps, cache: InstanceCache): { batch: BatchContext; checks: Statement[] } | undefined {
  if (!items.every((i) => i.kind === 'start' || (i.kind === 'message' && cache.has(i.message.key)))) return undefined;
  const now = Date.now();
  const rows = new Map<string, InstanceRow>();
  const sagaIds = new Set<string>();
  for (const item of items) {
    const id = sagaIdOf(item);
    if (id === undefined) return undefined;
    sagaIds.add(id);
    const row = rows.get(id) ?? cache.row(id, now);
    if (row) rows.set(id, row);
  }
  const messageIds = messageIdsOf(items);
  const checks = [lockOnlyStatement([...rows.keys()]), recordInboxAllStatement(deps.consumer, messageIds), noneParkedStatement([...sagaIds])].filter((s): s is Statement => s !== undefined);
  return { batch: new BatchContext(tx, deps, rows, new Set(messageIds), new Map(), [], true), checks };
}
