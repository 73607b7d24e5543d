import type { Db, Queryable, StructuredLogger } from '../store/index.js';
import { migrate, migrateStore, recordInboxMany } from '../store/index.js';
import type { MachineMigration, Snapshot } from '../machine/index.js';
import type { OrdoMetrics } from '../observe/index.js';
import { engineObservation, type BatchObserver } from './batch-observations.js';
import { systemClock, type Clock } from './clock.js';
import { BatchCacheMissError, EngineStoppedError, InvalidEngineOptionError, InvalidSagaInputError, MachineVersionMissingError } from './errors.js';
import { isolatingBadInputs } from './batch-isolation.js';
import { GroupCommitter } from './group-commit.js';
import { insertDeadLetter, readInstance } from './instance-sql.js';
import { dueWork, sagasWithDueParked, takeExpiredParked, type DueWork } from './parked-messages.js';
import { createMachineRegistry, type AnyMachine } from './machine-registry.js';
import { processBatch, type BatchCache, type BatchDeps } from './process-batch.js';
import { sagaIdOf } from './batch-context.js';
import { InstanceCache, type CachedInstance } from './instance-cache.js';
import { checkRetryPolicy, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { RUNTIME_MIGRATION_SCOPE, runtimeMigrations } from './runtime-migrations.js';
import type { TopicMapping } from './topics.js';
import { withConflictRetry } from './transaction-retry.js';
import { checkMigration, migrateAll, type MigrationReport } from './saga-migration.js';
import type { FirstEvent, IncomingMessage, WorkItem, WorkResult } from './work-item.js';
import type { PendingCommand, SagaStatus } from './working-instance.js';

/**
 * Claims the due sagas (skipping those locked elsewhere), locks them and deletes their due
 * timers, returning those (claimAndFire). Only the earliest ten batches' worth of due sagas
 * are joined to their instances: with thousands due at once (after downtime) the join was a
 * hash of the whole instance table (48 ms at 200k instances and 5,000 due; 15 ms so), and
 * ten times the batch leaves room for what other engines hold (SKIP LOCKED). Not marked
 * prepared: a generic plan cannot know that few of the timers are due, and would read them all.
 */
const CLAIM_DUE_TIMERS_SQL = `WITH due AS (SELECT saga_id, min(due_at) AS first_due FROM ordo_saga_timers WHERE due_at <= $1 GROUP BY saga_id ORDER BY first_due LIMIT $2 * 10),
  claimed AS (SELECT i.id, i.machine_id FROM due JOIN ordo_saga_instances i ON i.id = due.saga_id ORDER BY due.first_due, i.id LIMIT $2 FOR UPDATE OF i SKIP LOCKED),
  fired AS (DELETE FROM ordo_saga_timers t USING claimed c WHERE t.saga_id = c.id AND t.due_at <= $1 RETURNING t.saga_id, t.timer_id, t.kind, t.purpose, t.due_at)
SELECT f.saga_id, c.machine_id, f.timer_id, f.kind, f.purpose, f.due_at::text AS due_at FROM fired f JOIN claimed c ON c.id = f.saga_id`;

/** The store's logger type (a pino instance fits); the name stays for the engine's API. */
export type EngineLogger = StructuredLogger;

export interface SagaEngineOptions {
  readonly db: Db;
  /** Every deployed version of every machine; new instances start on the newest. */
  readonly machines: readonly AnyMachine[];
  readonly clock?: Clock;
  /** Jitter source for retry backoff, in [0, 1). Inject a seeded one in tests. */
  readonly random?: () => number;
  /** Inputs per transaction (default 200). */
  readonly batchSize?: number;
  /** Batch transactions in flight at once (default 1 on PGlite, 4 on a server). */
  readonly concurrency?: number;
  /** Inputs waiting for a batch at most (default 20 × batchSize × concurrency); more callers wait for room. */
  readonly maxQueued?: number;
  /**
   * Inputs that must be waiting before a batch starts beside a running one, at most (default
   * 32, at most batchSize; fewer — as many as the smallest running batch holds, at least 8 —
   * when the running batches are small). Fewer wait for the running batch and join the next:
   * fewer, fuller transactions under load; an idle engine still starts a batch at once.
   */
  readonly parallelMin?: number;
  /**
   * Unfinished instances the engine keeps as it last committed them (default 10,000, and at
   * most 64 M characters of their JSON; 0 = none). A batch of messages for kept sagas (and of starts) then skips its load: one
   * round trip instead of two, its writes checking in the same statements that nothing
   * changed meanwhile (and running again with a load when something did).
   */
  readonly instanceCacheSize?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly topics?: TopicMapping;
  /** Inbox consumer name (default `ordo-saga-engine`). */
  readonly consumer?: string;
  /** The stream of an instance in the message log (default `<machine>-<id>`). */
  readonly streamOf?: (machineId: string, sagaId: string) => string;
  /** Timer poll interval in ms when idle (default 100); `false` = no background poller. */
  readonly pollIntervalMs?: number | false;
  /** How long a message that came too early stays parked before it becomes a dead letter (default 24 h). */
  readonly parkedTtlMs?: number;
  /** The machine event an operator's `retryCompensation` sends (default `CompensationRetried`). */
  readonly compensationRetryEvent?: string;
  /** Run the store's and the engine's migrations in `start()` (default true). */
  readonly migrate?: boolean;
  readonly logger?: EngineLogger;
  /**
   * Counts transitions, sagas started and finished (with their duration), dead letters
   * and alerts into these metrics once each batch commits. Absent = nothing is counted.
   * Spans of committed transitions go to @opentelemetry/api's tracer either way.
   */
  readonly metrics?: OrdoMetrics;
  /** The `service` label of the engine's dead letters and spans (default: the consumer name). */
  readonly metricsService?: string;
  /** Live migrations between the machines' versions (checked when the engine is created). */
  readonly migrations?: readonly MachineMigration<never, unknown>[];
  /** Apply `migrations` in the background once started, batch by batch beside the engine's own work (default false). */
  readonly migrateOnStart?: boolean;
  /** Instances per migration transaction (default: batchSize). */
  readonly migrationBatchSize?: number;
}

export interface SagaInstance {
  readonly id: string;
  readonly machineId: string;
  readonly machineVersion: number;
  readonly status: SagaStatus;
  readonly snapshot: Snapshot;
  readonly pending: readonly PendingCommand[];
  readonly revision: number;
  readonly streamVersion: number;
  readonly stream: string;
}

export interface SagaEngine {
  /** Runs migrations, refuses to start if an unfinished instance's machine version is missing, starts the timer poller. */
  start(): Promise<void>;
  /** Stops the poller, waits for batches in flight; later calls are rejected. */
  stop(): Promise<void>;
  /**
   * Creates an instance on the newest version of the machine; `exists` if the id is taken
   * (idempotent). With `first`, the instance's first event is applied in the same
   * transaction, so no crash can leave the instance started but waiting for it.
   */
  startSaga(id: string, machineId: string, context: unknown, options?: { readonly first?: FirstEvent }): Promise<WorkResult>;
  /**
   * Applies incoming messages, grouped with concurrent calls into shared transactions. A
   * message that came too early (no saga yet, or a state that cannot take it yet) is
   * `parked` and applied once it can be; `{ park: false }` dead-letters it at once instead.
   */
  deliver(messages: readonly IncomingMessage[], options?: { readonly park?: boolean }): Promise<WorkResult[]>;
  /** One pass of the timer poller: claims up to `batchSize` due instances' timers and fires them. Returns how many fired. */
  fireDueTimers(): Promise<number>;
  /** Applies a dead-lettered message again (after a fix); if it fails again it stays dead-lettered with attempts + 1. */
  replayDeadLetter(id: string): Promise<WorkResult>;
  /** Operator action on a parked saga: resolves its alerts and sends the machine's retry event. */
  retryCompensation(sagaId: string): Promise<WorkResult>;
  getSaga(id: string): Promise<SagaInstance | undefined>;
  /** The reports of the `migrateOnStart` migrations once they are done (empty without them; rejects if one failed). */
  migrations(): Promise<readonly MigrationReport[]>;
  readonly options: { readonly batchSize: number; readonly concurrency: number; readonly retry: RetryPolicy };
}

const quietLogger: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Instances not finished, per machine version: what `start` checks against the deployed machines. */
async function unfinishedByVersion(q: Queryable): Promise<{ machine: string; version: number; instances: number }[]> {
  const r = await q.query<{ machine_id: string; machine_version: number; n: string }>(
    `SELECT machine_id, machine_version, count(*)::text AS n FROM ordo_saga_instances WHERE status <> 'final' GROUP BY machine_id, machine_version ORDER BY 1, 2`,
  );
  return r.rows.map((row) => ({ machine: row.machine_id, version: Number(row.machine_version), instances: Number(row.n) }));
}

function messageProblem(m: IncomingMessage): string | undefined {
  if (typeof m !== 'object' || m === null) return 'must be an object';
  for (const field of ['id', 'key', 'type'] as const) {
    if (typeof m[field] !== 'string' || m[field].length === 0) return `${field} must be a non-empty string`;
  }
  return undefined;
}

function firstResult(results: WorkResult[]): WorkResult {
  const r = results[0];
  if (!r) throw new Error('no result');
  if (r.status === 'rejected') throw r.error;
  return r;
}

export function createSagaEngine(options: SagaEngineOptions): SagaEngine {
  const registry = createMachineRegistry(options.machines);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? quietLogger;
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? (options.db.engine === 'pglite' ? 1 : 4);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidEngineOptionError('batchSize', 'must be a positive integer');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidEngineOptionError('concurrency', 'must be a positive integer');
  if (options.instanceCacheSize !== undefined && (!Number.isInteger(options.instanceCacheSize) || options.instanceCacheSize < 0)) throw new InvalidEngineOptionError('instanceCacheSize', 'must be a non-negative integer');
  if (options.parallelMin !== undefined && (!Number.isInteger(options.parallelMin) || options.parallelMin < 1)) throw new InvalidEngineOptionError('parallelMin', 'must be a positive integer');
  const retry = checkRetryPolicy({ ...defaultRetryPolicy, ...options.retry });
  for (const m of options.migrations ?? []) checkMigration(registry, m);
  const streamOf = options.streamOf ?? ((machineId: string, sagaId: string) => `${machineId}-${sagaId}`);
  const deps = (): BatchDeps => ({
    registry,
    consumer: options.consumer ?? 'ordo-saga-engine',
    streamOf,
    apply: { now: clock.now(), retry, random, topics: options.topics ?? {} },
  });
  const db = options.db;
  let running = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling: Promise<unknown> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;
  const migrationAbort = new AbortController();
  let migrating: Promise<readonly MigrationReport[]> = Promise.resolve([]);

  const migrateInBackground = () =>
    migrateAll(db, options.migrations ?? [], {
      machines: options.machines,
      batchSize: options.migrationBatchSize ?? batchSize,
      signal: migrationAbort.signal,
      operator: `engine:${deps().consumer}`,
      streamOf,
      retry,
      clock,
      consumer: deps().consumer,
      ...(options.topics ? { topics: options.topics } : {}),
      logger,
    });

  const service = options.metricsService ?? options.consumer ?? 'ordo-saga-engine';
  const observation = engineObservation({ ...(options.metrics ? { metrics: options.metrics } : {}), service, streamOf, logger });
  const instances = new InstanceCache(options.instanceCacheSize ?? 10_000);
  /**
   * A batch transaction that keeps the instance cache as committed, trusting it (no load)
   * when `trust`. A failed one forgets its sagas: what made it fail may be a stale entry.
   */
  const cachedTransaction = async <T>(sagaIds: () => string[], trust: boolean, body: (tx: Queryable, observer: BatchObserver, cache: BatchCache) => Promise<T>): Promise<T> => {
    let rows: CachedInstance[] = [];
    let load: 'cache' | 'loaded' | undefined; // undefined: no batch ran (a claim that found no timer)
    const cache: BatchCache = {
      instances,
      trust,
      written: (r, fromCache) => {
        rows = r;
        load = fromCache ? 'cache' : 'loaded';
      },
    };
    try {
      const out = await observation.transaction(db, (tx, observer) => body(tx, observer, cache));
      instances.remember(rows);
      if (load) options.metrics?.engineBatches.inc({ service, load });
      return out;
    } catch (err) {
      instances.forget(sagaIds());
      if (err instanceof BatchCacheMissError) options.metrics?.engineBatches.inc({ service, load: 'cache-miss' });
      throw err;
    }
  };
  /** The sagas of a batch's inputs (a replay's is known only once its dead letter is loaded: none). */
  const sagaIdsOf = (items: readonly WorkItem[]) => items.flatMap((i) => sagaIdOf(i) ?? []);
  const runOnce = (items: readonly WorkItem[]) =>
    withConflictRetry((attempt) => cachedTransaction(() => sagaIdsOf(items), attempt === 1, (tx, observer, cache) => processBatch(tx, items, { ...deps(), observer }, { commit: true, cache })));
  const runBatch = isolatingBadInputs(db, deps().consumer, runOnce, (reason) => options.metrics?.deadLetters.inc({ service, reason }));
  const committer = new GroupCommitter(runBatch, { batchSize, concurrency, maxQueued: options.maxQueued, parallelMin: options.parallelMin });
  const submit = (items: readonly WorkItem[]): Promise<WorkResult[]> => {
    if (!running) return Promise.reject(new EngineStoppedError());
    observation.submitted(items);
    return committer.submit(items);
  };

  async function claimAndFire(): Promise<number> {
    let items: WorkItem[] = [];
    return withConflictRetry(() =>
      cachedTransaction(() => sagaIdsOf(items), false, async (tx, observer, cache) => {
        const now = clock.now();
        // One statement claims, locks and takes the due timers. SKIP LOCKED before LIMIT: an
        // instance another engine process (or a delivery batch) holds is passed over and the
        // next due ones are taken, so engines share the timers. The batch's load locks them
        // again (a no-op: this transaction holds them) with its inbox and parked messages.
        const fired = await tx.query<{ saga_id: string; machine_id: string; timer_id: string; kind: 'machine' | 'step'; purpose: 'fire' | 'resend' | 'timeout'; due_at: string }>(CLAIM_DUE_TIMERS_SQL, [String(now), batchSize]);
        if (fired.rows.length === 0) return 0;
        const rows = fired.rows.sort((a, b) => Number(a.due_at) - Number(b.due_at) || (a.timer_id < b.timer_id ? -1 : 1));
        items = rows.map((r) => ({ kind: 'timer', sagaId: r.saga_id, timerId: r.timer_id, timerKind: r.kind, purpose: r.purpose }));
        const locked = new Map(rows.map((r) => [r.saga_id, { id: r.saga_id, machine_id: r.machine_id }]));
        await observation.traceTimers(tx, items, locked);
        await processBatch(tx, items, { ...deps(), apply: { ...deps().apply, now }, observer }, { commit: true, cache });
        return items.length;
      }),
    );
  }

  const parkedTtlMs = options.parkedTtlMs ?? 24 * 3600_000;

  /** Fires the due timers and deals with the parked messages, each only when one statement (outside a transaction) says some are due. */
  async function fireAllDue(): Promise<number> {
    const now = clock.now();
    const due = await dueWork(db, now, now - parkedTtlMs);
    let total = 0;
    while (due.timers) {
      const n = await claimAndFire();
      total += n;
      if (n === 0) break;
    }
    if (due.retries || due.expired) await retryParked(due);
    return total;
  }

  /** Parked messages: the expired ones become dead letters; sagas with some due are tried again. */
  async function retryParked(due: DueWork): Promise<void> {
    const now = clock.now();
    for (let n = due.expired ? batchSize : 0; n === batchSize; ) {
      n = await db.transaction(async (tx) => {
        const expired = await takeExpiredParked(tx, now - parkedTtlMs, batchSize);
        await recordInboxMany(tx, deps().consumer, expired.map((p) => p.message_id));
        for (const p of expired) {
          const reason = `parked for more than ${parkedTtlMs} ms, never accepted: ${p.reason}`;
          await insertDeadLetter(tx, { messageId: p.message_id, sagaId: p.saga_id, message: p.message, code: p.error_code, reason });
        }
        return expired.length;
      });
    }
    const sagas = due.retries ? await sagasWithDueParked(db, now, batchSize) : [];
    if (sagas.length > 0 && running) await submit(sagas.map((sagaId) => ({ kind: 'unpark', sagaId })));
  }

  function schedulePoll(interval: number): void {
    pollTimer = setTimeout(() => {
      polling = fireAllDue()
        .catch((err: unknown) => logger.error({ err }, 'timer poll failed'))
        .finally(() => {
          if (running) schedulePoll(interval);
        });
    }, interval);
  }

  return {
    options: { batchSize, concurrency, retry },
    async start() {
      if (options.migrate !== false) {
        await migrateStore(db);
        await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
      }
      const missing = (await unfinishedByVersion(db)).filter((v) => !registry.has(v.machine, v.version));
      if (missing.length > 0) throw new MachineVersionMissingError(missing);
      running = true;
      if (options.pollIntervalMs !== false) schedulePoll(options.pollIntervalMs ?? 100);
      if (clock.onAdvance) unsubscribe = clock.onAdvance(async () => void (await fireAllDue()));
      if (options.migrateOnStart === true && (options.migrations?.length ?? 0) > 0) {
        migrating = migrateInBackground();
        // Logged here; `migrations()` hands the failure to whoever asks.
        migrating.catch((err: unknown) => logger.error({ err }, 'saga migration failed; restart the engine (or run ordo migrate) to resume it'));
      }
      logger.info({ db: db.describe, machines: options.machines.map((m) => `${m.id}@${m.version}`) }, 'saga engine started');
    },
    async stop() {
      running = false;
      migrationAbort.abort();
      await migrating.catch(() => undefined);
      if (pollTimer) clearTimeout(pollTimer);
      unsubscribe?.();
      await polling;
      await committer.close();
    },
    async startSaga(id, machineId, context, startOptions) {
      if (typeof id !== 'string' || id.length === 0) throw new InvalidSagaInputError('id', 'must be a non-empty string');
      const first = startOptions?.first;
      if (first !== undefined) {
        const problem = messageProblem({ ...first, key: id });
        if (problem !== undefined) throw new InvalidSagaInputError('first', problem);
      }
      return firstResult(await submit([{ kind: 'start', sagaId: id, machineId, context, ...(first ? { first } : {}) }]));
    },
    async deliver(messages, deliverOptions) {
      const park = deliverOptions?.park === false ? { park: false } : {};
      const input: unknown = messages;
      if (!Array.isArray(input)) throw new InvalidSagaInputError('messages', 'must be an array');
      // A message without id, key or type cannot even be dead-lettered usefully: it is rejected to the caller.
      const problems = messages.map((m) => messageProblem(m));
      const valid: IncomingMessage[] = messages.filter((_, i) => problems[i] === undefined);
      const applied = valid.length > 0 ? await submit(valid.map((message) => ({ kind: 'message', message, ...park }))) : [];
      let next = 0;
      return problems.map((p, i): WorkResult => (p === undefined ? (applied[next++] as WorkResult) : { status: 'rejected', error: new InvalidSagaInputError(`messages[${i}]`, p) }));
    },
    fireDueTimers: () => (running ? fireAllDue() : Promise.reject(new EngineStoppedError())),
    replayDeadLetter: async (id) => firstResult(await submit([{ kind: 'replay', deadLetterId: id }])),
    retryCompensation: async (sagaId) =>
      firstResult(await submit([{ kind: 'retry-compensation', sagaId, event: options.compensationRetryEvent ?? 'CompensationRetried' }])),
    migrations: () => migrating,
    async getSaga(id) {
      const row = await readInstance(db, id);
      if (!row) return undefined;
      return {
        id: row.id,
        machineId: row.machine_id,
        machineVersion: row.machine_version,
        status: row.status,
        snapshot: row.snapshot,
        pending: row.pending,
        revision: row.revision,
        streamVersion: row.stream_version,
        stream: streamOf(row.machine_id, row.id),
      };
    },
  };
}
