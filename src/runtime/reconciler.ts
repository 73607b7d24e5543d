import { randomUUID } from 'node:crypto';
import { OrdoError } from '../machine/index.js';
import { migrate, type Db } from '../store/index.js';
import {
  claimRoundLease,
  countByOutcome,
  historyOf,
  insertReconciliation,
  listReconciliations,
  RECONCILER_MIGRATION_SCOPE,
  reconcilerMigrations,
  releaseRoundLease,
  type KeyHistory,
  type ListFilter,
  type ReconciliationOutcome,
  type StoredReconciliation,
} from './reconciler-sql.js';
import type { EngineLogger } from './saga-engine.js';

/**
 * One thing a check found wrong, and how to put it right. `apply` must be idempotent:
 * the same discrepancy is found again (and corrected again) until the views agree.
 */
export interface Discrepancy {
  /** Stable identity of what is wrong, e.g. `canceled-holds-reservation:o-1`. */
  readonly key: string;
  /** What it is about (an order id), for searching the records. */
  readonly subject?: string;
  /** What was found, as JSON: recorded with the correction. */
  readonly found: unknown;
  /** What `apply` does, in words (recorded). */
  readonly action: string;
  /** Performs the correction; what it resolves to is recorded as the result. */
  apply(context: { readonly roundId: string; readonly attempt: number }): Promise<unknown>;
}

/** A detector: compares views and returns what to correct. A throw is recorded; the other checks go on. */
export interface ReconcilerCheck {
  readonly name: string;
  find(): Promise<readonly Discrepancy[]>;
}

export interface ReconcilerOptions {
  /** Where corrections are recorded (`ordo_reconciliations`) and the round lease lives. */
  readonly db: Db;
  readonly checks: readonly ReconcilerCheck[];
  /** Time between rounds (default 30 000 ms); `false` = only on demand (`runOnce`). */
  readonly intervalMs?: number | false;
  /**
   * A discrepancy corrected successfully less than this long ago is settling (its command
   * is in flight): it is counted as awaiting, not corrected again (default 60 000 ms). The
   * wait doubles with each further correction of the same key, up to `maxSettleMs`.
   */
  readonly settleMs?: number;
  /** Longest wait between two corrections of the same key (default 1 h). */
  readonly maxSettleMs?: number;
  /** A check's `find` or a correction that takes longer fails (default 60 000 ms). */
  readonly timeoutMs?: number;
  /** Lease name, so that of several processes one runs a round at a time (default `reconciler`). */
  readonly name?: string;
  /** Longest a round may hold the lease if its process dies (default 5 min). */
  readonly leaseMs?: number;
  /** Run the reconciler's migrations in `start()` (default true). */
  readonly migrate?: boolean;
  readonly logger?: EngineLogger;
  /** Called for every record written (a correction, a failed correction, a failed check): e.g. a metric. */
  readonly onRecord?: (record: Reconciliation) => void;
}

export interface Reconciliation {
  readonly id: string;
  readonly roundId: string;
  readonly check: string;
  readonly key?: string;
  readonly subject?: string;
  readonly found: unknown;
  readonly action: string;
  readonly outcome: ReconciliationOutcome;
  readonly attempt: number;
  readonly result?: unknown;
  readonly error?: string;
  readonly at: string;
}

export interface CheckReport {
  readonly check: string;
  /** Discrepancies found (awaiting ones included). */
  readonly found: number;
  readonly corrected: number;
  readonly failed: number;
  /** Found, but corrected within `settleMs`: left alone this round. */
  readonly awaiting: number;
  /** The check itself threw (recorded as `check-failed`). */
  readonly error?: string;
}

export interface RoundReport {
  readonly roundId: string;
  /** Set when no round ran: another process holds the lease, or the reconciler is stopped. */
  readonly skipped?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly checks: readonly CheckReport[];
  readonly found: number;
  readonly corrected: number;
  readonly failed: number;
  readonly awaiting: number;
}

export interface ReconcilerStats {
  readonly rounds: number;
  readonly lastRound?: RoundReport;
  /** Records in the table by outcome (all processes, all time). */
  readonly recorded: Record<ReconciliationOutcome, number>;
  readonly intervalMs: number | false;
}

export interface Reconciler {
  /** Runs migrations and starts the periodic rounds (if an interval is set). */
  start(): Promise<void>;
  /** Stops the rounds and waits for one in progress. */
  stop(): Promise<void>;
  /** One round now (after any round of this process in progress). Never throws for a failing check or correction. */
  runOnce(): Promise<RoundReport>;
  /** Recorded corrections, newest first. */
  list(filter: ListFilter): Promise<Reconciliation[]>;
  stats(): Promise<ReconcilerStats>;
}

export class InvalidReconcilerOptionError extends OrdoError {
  readonly code = 'INVALID_RECONCILER_OPTION';
  readonly retryable = false;
  constructor(readonly option: string, readonly why: string) {
    super(`reconciler option ${option} ${why}`);
  }
}

export class ReconcilerTimeoutError extends OrdoError {
  readonly code = 'RECONCILER_TIMEOUT';
  readonly retryable = true;
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} took longer than ${ms} ms`);
  }
}

const quietLogger: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const message = (err: unknown): string => (err instanceof Error ? `${err instanceof OrdoError ? `${err.code}: ` : ''}${err.message}` : String(err));

function withTimeout<T>(what: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReconcilerTimeoutError(what, ms)), ms);
  });
  return Promise.race([Promise.resolve().then(work), timeout]).finally(() => clearTimeout(timer));
}

function toReconciliation(r: StoredReconciliation): Reconciliation {
  return {
    id: r.id,
    roundId: r.round_id,
    check: r.check_name,
    ...(r.key === null ? {} : { key: r.key }),
    ...(r.subject === null ? {} : { subject: r.subject }),
    found: r.found,
    action: r.action,
    outcome: r.outcome,
    attempt: Number(r.attempt),
    ...(r.result === null || r.result === undefined ? {} : { result: r.result }),
    ...(r.error === null || r.error === undefined ? {} : { error: r.error }),
    at: new Date(r.created_at).toISOString(),
  };
}

function positive(option: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new InvalidReconcilerOptionError(option, `must be a positive number of ms, got ${String(v)}`);
}

/**
 * The seed's "eventual consistency with compensation": a periodic detector compares
 * views, applies idempotent corrections and records every one of them (DESIGN.md §2).
 * A failing check or correction is recorded and tried again next round; nothing here
 * throws into the host.
 */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { db, checks } = options;
  const intervalMs = options.intervalMs ?? 30_000;
  if (intervalMs !== false) positive('intervalMs', intervalMs);
  positive('settleMs', options.settleMs);
  positive('maxSettleMs', options.maxSettleMs);
  positive('timeoutMs', options.timeoutMs);
  positive('leaseMs', options.leaseMs);
  const names = checks.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new InvalidReconcilerOptionError('checks', `has two checks named ${dup}`);
  const settleMs = options.settleMs ?? 60_000;
  const maxSettleMs = Math.max(settleMs, options.maxSettleMs ?? 3_600_000);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const leaseMs = options.leaseMs ?? 300_000;
  const leaseName = options.name ?? 'reconciler';
  const owner = randomUUID();
  const log = options.logger ?? quietLogger;

  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<RoundReport> | undefined;
  let rounds = 0;
  let lastRound: RoundReport | undefined;

  /** Exponential backoff per key: a correction that keeps being needed is not sent every round. */
  function settling(past: KeyHistory): boolean {
    if (past.sinceCorrectedMs === null || past.corrected === 0) return false;
    return past.sinceCorrectedMs < Math.min(maxSettleMs, settleMs * 2 ** (past.corrected - 1));
  }

  async function record(row: Parameters<typeof insertReconciliation>[1]): Promise<void> {
    const stored = toReconciliation(await insertReconciliation(db, row));
    try {
      options.onRecord?.(stored);
    } catch (err) {
      log.warn({ err }, 'reconciler onRecord hook failed');
    }
  }

  async function runCheck(check: ReconcilerCheck, roundId: string): Promise<CheckReport> {
    let found: readonly Discrepancy[];
    try {
      found = await withTimeout(`check ${check.name}`, timeoutMs, () => check.find());
    } catch (err) {
      const error = message(err);
      log.error({ check: check.name, err }, 'reconciler check failed');
      await record({ round_id: roundId, check_name: check.name, key: null, subject: null, found: null, action: 'none: the check failed', outcome: 'check-failed', attempt: 1, error });
      return { check: check.name, found: 0, corrected: 0, failed: 0, awaiting: 0, error };
    }
    const history = await historyOf(db, found.map((d) => d.key));
    let corrected = 0;
    let failed = 0;
    let awaiting = 0;
    for (const d of found) {
      const past = history.get(d.key);
      if (past && settling(past)) {
        awaiting += 1;
        continue;
      }
      const attempt = (past?.attempts ?? 0) + 1;
      const base = { round_id: roundId, check_name: check.name, key: d.key, subject: d.subject ?? null, found: d.found, action: d.action, attempt };
      try {
        const result = await withTimeout(`correction ${d.key}`, timeoutMs, () => d.apply({ roundId, attempt }));
        corrected += 1;
        log.info({ check: check.name, key: d.key, subject: d.subject, action: d.action, attempt }, 'reconciler corrected a discrepancy');
        await record({ ...base, outcome: 'corrected', result: result ?? null });
      } catch (err) {
        failed += 1;
        log.warn({ check: check.name, key: d.key, subject: d.subject, action: d.action, attempt, err }, 'reconciler correction failed; it is tried again next round');
        await record({ ...base, outcome: 'failed', error: message(err) });
      }
    }
    return { check: check.name, found: found.length, corrected, failed, awaiting };
  }

  async function round(): Promise<RoundReport> {
    const roundId = randomUUID();
    const startedAt = new Date().toISOString();
    const empty = (skipped: string): RoundReport => ({ roundId, skipped, startedAt, finishedAt: new Date().toISOString(), checks: [], found: 0, corrected: 0, failed: 0, awaiting: 0 });
    if (stopped) return empty('the reconciler is stopped');
    if (!(await claimRoundLease(db, leaseName, owner, leaseMs))) return empty('another process is running a round');
    const reports: CheckReport[] = [];
    try {
      for (const check of checks) {
        try {
          reports.push(await runCheck(check, roundId));
        } catch (err) {
          // Recording itself failed (the database is down): report it, go on with the next check.
          log.error({ check: check.name, err }, 'reconciler could not record a check');
          reports.push({ check: check.name, found: 0, corrected: 0, failed: 0, awaiting: 0, error: message(err) });
        }
      }
    } finally {
      await releaseRoundLease(db, leaseName, owner).catch((err: unknown) => log.warn({ err }, 'reconciler could not release its lease; it expires by itself'));
    }
    const sum = (f: (r: CheckReport) => number) => reports.reduce((n, r) => n + f(r), 0);
    const report: RoundReport = {
      roundId,
      startedAt,
      finishedAt: new Date().toISOString(),
      checks: reports,
      found: sum((r) => r.found),
      corrected: sum((r) => r.corrected),
      failed: sum((r) => r.failed),
      awaiting: sum((r) => r.awaiting),
    };
    rounds += 1;
    lastRound = report;
    const checkErrors = reports.filter((r) => r.error !== undefined).length;
    if (report.found > 0 || checkErrors > 0) {
      log.info({ roundId, found: report.found, corrected: report.corrected, failed: report.failed, awaiting: report.awaiting, checkErrors }, 'reconciliation round');
    }
    return report;
  }

  function runOnce(): Promise<RoundReport> {
    const next = (current ?? Promise.resolve()).catch(() => undefined).then(round);
    current = next;
    return next;
  }

  function schedule(ms: number): void {
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => log.error({ err }, 'reconciliation round failed; trying again next round'))
        .finally(() => {
          if (!stopped) schedule(ms);
        });
    }, ms);
    timer.unref?.();
  }

  return {
    async start() {
      if (started) return;
      if (options.migrate !== false) await migrate(db, reconcilerMigrations, RECONCILER_MIGRATION_SCOPE);
      started = true;
      if (intervalMs !== false) schedule(intervalMs);
      log.info({ checks: names, intervalMs }, 'reconciler started');
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current?.catch(() => undefined);
    },
    runOnce,
    async list(filter) {
      return (await listReconciliations(db, filter)).map(toReconciliation);
    },
    async stats() {
      return { rounds, ...(lastRound ? { lastRound } : {}), recorded: await countByOutcome(db), intervalMs };
    },
  };
}
