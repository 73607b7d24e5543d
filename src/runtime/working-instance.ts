import type { Effect, Snapshot } from '../machine/index.js';
import type { NewMessage } from '../store/index.js';

/** A step command of the current state entry that may still need resending. */
export interface PendingCommand {
  readonly step: string;
  readonly compensation: boolean;
  /** The state entry (`snapshot.seq`) that sent it; a later entry makes it stale. */
  readonly seq: number;
  readonly attempts: number;
  readonly effect: Extract<Effect, { kind: 'send' }>;
}

export type SagaStatus = 'active' | 'final' | 'parked';

export interface InstanceRow {
  readonly id: string;
  readonly machine_id: string;
  readonly machine_version: number;
  readonly status: SagaStatus;
  readonly snapshot: Snapshot;
  readonly pending: PendingCommand[];
  readonly revision: number;
  readonly stream_version: number;
  /** Seconds since the instance was created, by the database clock (read by the batch's lock of its instances, for the latency metric). */
  readonly age_seconds?: number;
  /** The id of the transaction that last wrote the row (its `xmin`): what a batch that skipped the load checks. */
  readonly xmin?: string;
}

export type TimerOp =
  | { readonly op: 'set'; readonly timerId: string; readonly kind: 'machine' | 'step'; readonly purpose: 'fire' | 'resend' | 'timeout'; readonly dueAt: number }
  | { readonly op: 'cancel'; readonly timerId: string }
  | { readonly op: 'clear'; readonly kind: 'step' | 'all' };

export interface AttemptRecord {
  readonly step: string;
  readonly compensation: boolean;
  readonly seq: number;
  readonly attempt: number;
  readonly retryable: boolean;
  readonly error: string;
  readonly retryAt: number | null;
}

/** One instance as a batch changes it in memory, and the writes that will make it durable. */
export class WorkingInstance {
  snapshot: Snapshot;
  pending: PendingCommand[];
  status: SagaStatus;
  revision: number;
  readonly log: NewMessage[] = [];
  readonly timerOps: TimerOp[] = [];
  readonly attempts: AttemptRecord[] = [];
  readonly alerts: { kind: string; detail: Record<string, unknown> }[] = [];
  resolveAlerts = false;

  constructor(
    readonly id: string,
    readonly machineId: string,
    readonly machineVersion: number,
    /** The stored row, or undefined when this batch creates the instance. */
    readonly loaded: InstanceRow | undefined,
    snapshot: Snapshot,
  ) {
    this.snapshot = snapshot;
    this.pending = loaded ? [...loaded.pending] : [];
    this.status = loaded?.status ?? 'active';
    this.revision = loaded?.revision ?? 0;
  }

  /**
   * Appends an entry to the instance's timeline under the next revision — the one place a
   * revision is bumped — and returns that revision (message ids derive from it).
   */
  appendTimeline(type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): number {
    this.revision += 1;
    const revision = this.revision;
    this.log.push({
      id: `${this.id}/${revision}`,
      type,
      data: { ...data, revision },
      metadata: { kind: 'timeline', key: this.id, machine: this.machineId, machineVersion: this.machineVersion, ...metadata },
    });
    return revision;
  }

  /** Runs `change`; if it throws, the instance is as it was before (nothing half-applied) and the error goes on. */
  applyAtomically<T>(change: () => T): T {
    const saved = { snapshot: this.snapshot, pending: this.pending, status: this.status, revision: this.revision, resolveAlerts: this.resolveAlerts };
    const lengths = { log: this.log.length, timerOps: this.timerOps.length, attempts: this.attempts.length, alerts: this.alerts.length };
    try {
      return change();
    } catch (err) {
      Object.assign(this, saved);
      this.log.length = lengths.log;
      this.timerOps.length = lengths.timerOps;
      this.attempts.length = lengths.attempts;
      this.alerts.length = lengths.alerts;
      throw err;
    }
  }

  get dirty(): boolean {
    return this.log.length > 0 || this.timerOps.length > 0 || this.attempts.length > 0 || this.alerts.length > 0 || this.resolveAlerts;
  }
}

/**
 * The net effect of a list of timer operations: which stored timers to delete first,
 * then which to upsert. Later operations win over earlier ones for the same id.
 */
export function netTimerOps(ops: readonly TimerOp[]): { clear?: 'step' | 'all'; cancel: string[]; set: Extract<TimerOp, { op: 'set' }>[] } {
  let clear: 'step' | 'all' | undefined;
  const byId = new Map<string, TimerOp>();
  for (const op of ops) {
    if (op.op === 'clear') {
      if (op.kind === 'all') {
        clear = 'all';
        byId.clear();
      } else {
        if (clear !== 'all') clear = 'step';
        for (const [id, o] of byId) if (o.op === 'set' && o.kind === 'step') byId.delete(id);
      }
    } else {
      byId.set(op.timerId, op);
    }
  }
  const cancel: string[] = [];
  const set: Extract<TimerOp, { op: 'set' }>[] = [];
  for (const [id, op] of byId) {
    if (op.op === 'cancel') cancel.push(id);
    else if (op.op === 'set') set.push(op);
  }
  return { ...(clear ? { clear } : {}), cancel, set };
}
