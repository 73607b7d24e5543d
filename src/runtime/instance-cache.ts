import type { InstanceRow, PendingCommand, SagaStatus } from './working-instance.js';

/**
 * An instance as this engine last committed it, for a batch that skips the load: the row's
 * values and `xmin` (the id of the transaction that wrote it), so that the batch's writes
 * can check, in the same statements, that nobody wrote the row since (see process-batch.ts).
 * Snapshot and pending are kept as the JSON the batch wrote: every batch gets its own copy.
 */
export interface CachedInstance {
  readonly id: string;
  readonly machineId: string;
  readonly machineVersion: number;
  readonly status: SagaStatus;
  readonly snapshotJson: string;
  readonly pendingJson: string;
  readonly revision: number;
  readonly streamVersion: number;
  readonly xmin: string;
  /** When the instance was created, by this process's clock (ms): for the saga latency metric. */
  readonly bornAt: number;
}

/**
 * The unfinished instances this engine committed last, most recently written kept, at most
 * `capacity`. A hint, never the truth: a batch that trusts an entry checks it (revision and
 * xmin) in its writes and, when the check fails, runs again with a load.
 */
export class InstanceCache {
  private readonly entries = new Map<string, CachedInstance>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The stored row as the batch's load would have read it, or undefined. */
  row(id: string, now: number): InstanceRow | undefined {
    const c = this.entries.get(id);
    if (!c) return undefined;
    return {
      id: c.id,
      machine_id: c.machineId,
      machine_version: c.machineVersion,
      status: c.status,
      snapshot: JSON.parse(c.snapshotJson) as InstanceRow['snapshot'],
      pending: JSON.parse(c.pendingJson) as PendingCommand[],
      revision: c.revision,
      stream_version: c.streamVersion,
      age_seconds: Math.max(0, (now - c.bornAt) / 1000),
      xmin: c.xmin,
    };
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Committed instances: kept (the newest first out of the way last), finished ones dropped. */
  remember(instances: readonly CachedInstance[]): void {
    if (this.capacity <= 0) return;
    for (const c of instances) {
      const old = this.entries.get(c.id);
      this.entries.delete(c.id);
      // Two batches committed in the other order: the older one's report is not newer news.
      if (old && old.revision > c.revision) this.entries.set(c.id, old);
      else if (c.status !== 'final') this.entries.set(c.id, c);
    }
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(id);
    }
  }

  forget(ids: Iterable<string>): void {
    for (const id of ids) this.entries.delete(id);
  }
}
