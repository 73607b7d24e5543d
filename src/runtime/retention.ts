import { heldStreams, migrate, pruneInbox, removeStreams, trimOutbox, vacuumWhereNeeded, type Db, type Migration, type RetentionMode, type VacuumMode } from '../store/index.js';
import { InvalidEngineOptionError } from './errors.js';

/*
 * Retention for a saga engine's database, so a service at a million orders runs as fast as
 * a new one: finished sagas past their retention leave with everything that is theirs
 * (instance row, stream in the log, timers, retry history, alerts), in batches, each in one
 * transaction; inbox entries past the redelivery window are forgotten. A saga whose stream
 * a reader (outbox relay, projection) has not passed yet stays until it has.
 */

export const RETENTION_MIGRATION_SCOPE = 'saga-retention';

const INSTANCE_COLUMNS = 'id, machine_id, machine_version, state, status, snapshot, pending, revision, stream_version, created_at, updated_at';

export const retentionMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'finished sagas index and archive',
    sql: `
      CREATE INDEX IF NOT EXISTS ordo_saga_instances_finished ON ordo_saga_instances (updated_at) WHERE status = 'final';
      CREATE TABLE IF NOT EXISTS ordo_saga_instances_archive (
        id text PRIMARY KEY,
        machine_id text NOT NULL,
        machine_version integer NOT NULL,
        state text NOT NULL,
        status text NOT NULL,
        snapshot jsonb NOT NULL,
        pending jsonb NOT NULL,
        revision integer NOT NULL,
        stream_version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

export interface RetentionPolicy {
  /** Finished sagas leave this long after they finished (ms). */
  readonly finishedAfterMs: number;
  /** Inbox entries are forgotten this long after they were handled (ms): longer than any redelivery. */
  readonly inboxAfterMs: number;
  /** 'archive' keeps what leaves in `ordo_saga_instances_archive` / `ordo_messages_archive`; 'delete' drops it. */
  readonly mode: RetentionMode;
  /** Sagas (and inbox entries) per transaction (default 500). */
  readonly batchSize?: number;
  /**
   * VACUUM the tables the engine churns at the end of a round, when they hold more dead rows
   * than autovacuum would wait for: 'auto' (default) only where autovacuum will not (PGlite,
   * a server or table with it off), 'always', or 'never'.
   */
  readonly vacuum?: VacuumMode;
}

export interface RetentionReport {
  /** Finished sagas that left. */
  readonly sagas: number;
  /** Log messages that left with them. */
  readonly messages: number;
  /** Finished sagas past their retention kept because a reader has not passed their stream yet. */
  readonly held: number;
  readonly inbox: number;
  /** Tables the round vacuumed (see `RetentionPolicy.vacuum`). */
  readonly vacuumed: readonly string[];
  readonly seconds: number;
}

/** What a saga engine's database churns: the log, instances updated at each step, timers, inbox, retry history, checkpoints. */
export const SAGA_CHURN_TABLES = ['ordo_messages', 'ordo_saga_instances', 'ordo_saga_timers', 'ordo_inbox', 'ordo_checkpoints', 'ordo_command_attempts', 'ordo_saga_alerts', 'ordo_parked_messages'] as const;
/** What an outbox-only database churns. */
export const OUTBOX_CHURN_TABLES = ['ordo_messages', 'ordo_inbox', 'ordo_checkpoints'] as const;

export function checkRetentionPolicy(p: RetentionPolicy): Required<RetentionPolicy> {
  const ms = (field: string, v: number) => {
    if (!Number.isInteger(v) || v < 0) throw new InvalidEngineOptionError(field, `must be a whole number of ms ≥ 0, got ${String(v)}`);
  };
  ms('finishedAfterMs', p.finishedAfterMs);
  ms('inboxAfterMs', p.inboxAfterMs);
  if (p.mode !== 'archive' && p.mode !== 'delete') throw new InvalidEngineOptionError('mode', `must be "archive" or "delete", got ${String(p.mode)}`);
  const batchSize = p.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidEngineOptionError('batchSize', 'must be a positive integer');
  const vacuum = p.vacuum ?? 'auto';
  if (vacuum !== 'auto' && vacuum !== 'always' && vacuum !== 'never') throw new InvalidEngineOptionError('vacuum', `must be "auto", "always" or "never", got ${String(vacuum)}`);
  return { ...p, batchSize, vacuum };
}

/** The streams in the log that belong to a saga and leave with it (default: the engine's `<machine>-<id>`). */
export type SagaStreams = (machineId: string, sagaId: string) => readonly string[];

const defaultStreams: SagaStreams = (machineId, sagaId) => [`${machineId}-${sagaId}`];

/** One batch of finished sagas; returns what left and how many were held. */
async function retireBatch(db: Db, policy: Required<RetentionPolicy>, streamsOf: SagaStreams): Promise<{ sagas: number; messages: number; held: number; picked: number }> {
  return db.transaction(async (tx) => {
    const picked = await tx.query<{ id: string; machine_id: string }>(
      `SELECT id, machine_id FROM ordo_saga_instances
       WHERE status = 'final' AND updated_at < now() - $1::bigint * interval '1 millisecond'
       ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [policy.finishedAfterMs, policy.batchSize],
    );
    if (picked.rows.length === 0) return { sagas: 0, messages: 0, held: 0, picked: 0 };
    const streamsOfSaga = new Map(picked.rows.map((r) => [r.id, streamsOf(r.machine_id, r.id)]));
    // A saga leaves with all of its streams or not at all.
    const held = await heldStreams(tx, [...streamsOfSaga.values()].flat());
    const ids = [...streamsOfSaga].filter(([, streams]) => !streams.some((s) => held.has(s))).map(([id]) => id);
    const out = await removeStreams(tx, ids.flatMap((id) => streamsOfSaga.get(id) ?? []), policy.mode);
    // A reader's checkpoint moved back meanwhile (a reset): roll the whole batch back, try next round.
    if (out.held.length > 0) throw new RetentionRaceError(out.held);
    if (ids.length > 0) {
      for (const table of ['ordo_saga_timers', 'ordo_command_attempts', 'ordo_saga_alerts']) await tx.query(`DELETE FROM ${table} WHERE saga_id = ANY($1::text[])`, [ids]);
      if (policy.mode === 'archive') {
        await tx.query(
          `WITH gone AS (DELETE FROM ordo_saga_instances WHERE id = ANY($1::text[]) RETURNING ${INSTANCE_COLUMNS})
           INSERT INTO ordo_saga_instances_archive (${INSTANCE_COLUMNS}) SELECT ${INSTANCE_COLUMNS} FROM gone ON CONFLICT (id) DO NOTHING`,
          [ids],
        );
      } else await tx.query('DELETE FROM ordo_saga_instances WHERE id = ANY($1::text[])', [ids]);
    }
    return { sagas: ids.length, messages: out.messages, held: picked.rows.length - ids.length, picked: picked.rows.length };
  });
}

/** A stream became unpassed between the check and the removal; the batch was rolled back. */
export class RetentionRaceError extends Error {
  readonly code = 'RETENTION_RACE';
  readonly retryable = true;
  constructor(readonly streams: readonly string[]) {
    super(`a reader has not passed ${streams.length} stream(s) any more (${streams.slice(0, 3).join(', ')}); the batch was rolled back`);
  }
}

/** One retention round over a saga engine's database (idempotent; safe beside running engines). */
export async function runSagaRetention(db: Db, policy: RetentionPolicy, streamsOf: SagaStreams = defaultStreams): Promise<RetentionReport> {
  const p = checkRetentionPolicy(policy);
  const t0 = performance.now();
  await migrate(db, retentionMigrations, RETENTION_MIGRATION_SCOPE);
  let sagas = 0;
  let messages = 0;
  let held = 0;
  for (;;) {
    const b = await retireBatch(db, p, streamsOf);
    sagas += b.sagas;
    messages += b.messages;
    held += b.held;
    // A batch that retired nothing is all held (or empty): the next round tries again.
    if (b.picked < p.batchSize || b.sagas === 0) break;
  }
  const inboxCutoff = new Date(Date.now() - p.inboxAfterMs);
  let inbox = 0;
  for (;;) {
    const n = await db.transaction((tx) => pruneInbox(tx, inboxCutoff, p.batchSize));
    inbox += n;
    if (n < p.batchSize) break;
  }
  const vacuumed = await vacuumWhereNeeded(db, SAGA_CHURN_TABLES, p.vacuum);
  return { sagas, messages, held, inbox, vacuumed, seconds: (performance.now() - t0) / 1000 };
}

/**
 * One retention round over a database whose log is only an outbox (a service that appends
 * its reports for the relay and never reads them back): published messages older than the
 * inbox window leave, and so do inbox entries.
 */
export async function runOutboxRetention(db: Db, policy: RetentionPolicy): Promise<RetentionReport> {
  const p = checkRetentionPolicy(policy);
  const t0 = performance.now();
  const cutoff = new Date(Date.now() - p.inboxAfterMs);
  let messages = 0;
  for (;;) {
    const n = await db.transaction((tx) => trimOutbox(tx, cutoff, p.mode, p.batchSize));
    messages += n;
    if (n < p.batchSize) break;
  }
  let inbox = 0;
  for (;;) {
    const n = await db.transaction((tx) => pruneInbox(tx, cutoff, p.batchSize));
    inbox += n;
    if (n < p.batchSize) break;
  }
  const vacuumed = await vacuumWhereNeeded(db, OUTBOX_CHURN_TABLES, p.vacuum);
  return { sagas: 0, messages, held: 0, inbox, vacuumed, seconds: (performance.now() - t0) / 1000 };
}

export interface RetentionLoop {
  /** Runs a round now (waits for one in progress first). */
  runNow(): Promise<RetentionReport>;
  /** Waits for a round in progress and stops. */
  stop(): Promise<void>;
}

export interface RetentionLoopOptions {
  /** What one round does (e.g. `() => runSagaRetention(db, policy)`, or a service's own tables too). */
  readonly round: () => Promise<RetentionReport>;
  /** Between rounds (ms). */
  readonly intervalMs: number;
  readonly onReport?: (report: RetentionReport) => void;
  readonly onError?: (err: unknown) => void;
}

/** Runs retention rounds in the background, one at a time; a failed round is reported and tried again next time. */
export function startRetention(options: RetentionLoopOptions): RetentionLoop {
  if (!Number.isInteger(options.intervalMs) || options.intervalMs < 1) throw new InvalidEngineOptionError('intervalMs', 'must be a positive integer');
  let current: Promise<RetentionReport> | undefined;
  let stopped = false;
  const runNow = async (): Promise<RetentionReport> => {
    while (current) await current.catch(() => undefined);
    const round = options.round();
    current = round;
    try {
      const report = await round;
      options.onReport?.(report);
      return report;
    } finally {
      current = undefined;
    }
  };
  const timer = setInterval(() => {
    if (stopped || current) return;
    runNow().catch((err: unknown) => options.onError?.(err));
  }, options.intervalMs);
  timer.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
