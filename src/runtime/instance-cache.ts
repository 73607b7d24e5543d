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

/** The JSON text an engine keeps at most by default, in characters (about 64 MB of one-byte text). */
export const DEFAULT_CACHE_CHARS = 64 * 1024 * 1024;

/**
 * The unfinished instances this engine committed last, most recently written kept: at most
 * `capacity` of them and `maxChars` characters of their JSON (large contexts hold fewer). A
 * hint, never the truth: a batch that trusts an entry checks it (revision and xmin) in its
 * writes and, when the check fails, runs again with a load.
 */
export class InstanceCache {
  private readonly entries = new Map<string, CachedInstance>();
  private chars = 0;

  constructor(
    readonly capacity: number,
    readonly maxChars = DEFAULT_CACHE_CHARS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Characters of JSON held. */
  get heldChars(): number {
    return this.chars;
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
      this.drop(c.id);
      // Two batches committed in the other order: the older one's report is not newer news.
      const keep = old && old.revision > c.revision ? old : c.status !== 'final' ? c : undefined;
      if (keep && charsOf(keep) <= this.maxChars) {
        this.entries.set(keep.id, keep);
        this.chars += charsOf(keep);
      }
    }
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity && this.chars <= this.maxChars) break;
      this.drop(id);
    }
  }

  forget(ids: Iterable<string>): void {
    for (const id of ids) this.drop(id);
  }

  private drop(id: string): void {
    const c = this.entries.get(id);
    if (!c) return;
    this.entries.delete(id);
    this.chars -= charsOf(c);
  }
}

const charsOf = (c: CachedInstance): number => c.snapshotJson.length + c.pendingJson.length;
