import { appendToStream, ExpectedVersionConflictError, readStream, type Db, type Queryable, type StoredMessage } from '../store/index.js';
import type { Decider, DomainEvent } from './decider.js';
import { ConcurrencyRetriesExhaustedError, InvalidCommandError } from './errors.js';
import { applyProjection, type Projection } from './projection.js';
import { loadSnapshot, saveSnapshot, snapshotDue, type SnapshotPolicy } from './snapshots.js';
import { noUpcasters, SCHEMA_VERSION, type Upcasters } from './upcasters.js';

export interface LoadOptions<S> {
  /** Start from the stream's snapshot when there is one of this shape. */
  readonly snapshots?: SnapshotPolicy<S>;
  /** Brings old event versions to the current one before `evolve` sees them. */
  readonly upcasters?: Upcasters;
}

export interface LoadedStream<S> {
  readonly state: S;
  /** The stream's version the state includes (0: no stream). */
  readonly version: number;
  /** How many messages were read from the log (the ones after the snapshot). */
  readonly messagesRead: number;
  /** The snapshot's version when loading started from one. */
  readonly fromSnapshot?: number;
}

/** The current state of a stream: its snapshot (if any) plus the messages after it, folded. */
export async function aggregateStream<S, E extends DomainEvent>(q: Queryable, decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>, stream: string, options: LoadOptions<S> = {}): Promise<LoadedStream<S>> {
  const snap = options.snapshots ? await loadSnapshot(q, stream, options.snapshots) : undefined;
  const upcasters = options.upcasters ?? noUpcasters;
  const messages = await readStream(q, stream, { fromVersion: (snap?.version ?? 0) + 1 });
  let state = snap ? snap.state : decider.initialState();
  let version = snap?.version ?? 0;
  for (const m of messages) {
    state = decider.evolve(state, upcasters.upcast(m) as unknown as E);
    version = m.streamVersion;
  }
  return { state, version, messagesRead: messages.length, ...(snap ? { fromSnapshot: snap.version } : {}) };
}

export interface HandleCommandOptions<S> extends LoadOptions<S> {
  /** Attempts after the first when a concurrent append wins (default 3). */
  readonly maxRetries?: number;
  /** Merged into every event's metadata: causationId, correlationId, traceparent… */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Read models updated in the same transaction as the append. */
  readonly projections?: readonly Projection[];
  /**
   * The version the caller saw (e.g. an HTTP If-Match). A mismatch throws the store's
   * ExpectedVersionConflictError at once: retrying would decide on a state the caller never saw.
   */
  readonly expectedVersion?: number;
}

export interface CommandResult<S, E> {
  /** The state after the new events. */
  readonly state: S;
  readonly newEvents: readonly E[];
  /** Pass as `expectedVersion` next time. */
  readonly nextExpectedVersion: number;
  /** The stored messages of this command, in order (empty when it decided nothing). */
  readonly messages: readonly StoredMessage[];
  readonly attempts: number;
}

/**
 * One attempt of `handleCommand` inside the caller's transaction (e.g. with an idempotency
 * record or other writes that must commit together). No retries: on the store's
 * ExpectedVersionConflictError the transaction is spoiled; retry it whole.
 */
export async function handleCommandInTransaction<S, C, E extends DomainEvent>(
  tx: Queryable,
  decider: Decider<S, C, E>,
  stream: string,
  command: C,
  options: Omit<HandleCommandOptions<S>, 'maxRetries'> = {},
): Promise<Omit<CommandResult<S, E>, 'attempts'>> {
  const upcasters = options.upcasters ?? noUpcasters;
  const loaded = await aggregateStream(tx, decider, stream, options);
  if (options.expectedVersion !== undefined && options.expectedVersion !== loaded.version) {
    throw new ExpectedVersionConflictError(stream, options.expectedVersion, loaded.version);
  }
  const events = decider.decide(command, loaded.state);
  if (events.length === 0) return { state: loaded.state, newEvents: events, nextExpectedVersion: loaded.version, messages: [] };
  const appended = await appendToStream(
    tx,
    stream,
    loaded.version,
    events.map((e) => ({ type: e.type, data: e.data, metadata: { ...e.metadata, ...options.metadata, [SCHEMA_VERSION]: upcasters.currentVersion(e.type) } })),
  );
  let state = loaded.state;
  for (const e of events) state = decider.evolve(state, e);
  let messages: StoredMessage[] = [];
  if (options.projections && options.projections.length > 0) {
    // Re-read to hand projections the stored messages (ids, positions, the log's createdAt).
    messages = await readStream(tx, stream, { fromVersion: loaded.version + 1 });
    for (const p of options.projections) await applyProjection(p, messages, tx);
  }
  if (options.snapshots && snapshotDue(options.snapshots, loaded.version, appended.nextExpectedVersion)) {
    await saveSnapshot(tx, stream, appended.nextExpectedVersion, state, options.snapshots);
  }
  return { state, newEvents: events, nextExpectedVersion: appended.nextExpectedVersion, messages };
}

function checkRetries(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidCommandError('handleCommand', [`maxRetries must be an integer from 0 to 100, got ${String(n)}`]);
  return n;
}

/**
 * Loads the stream, decides, and appends the new events expecting the version it loaded,
 * with the inline projections and the snapshot in the same transaction. When another
 * writer appended first, the whole attempt runs again on the new state, at most
 * `maxRetries` more times; then ConcurrencyRetriesExhaustedError (retryable). Errors
 * from `decide` (InvalidTransitionError…) are not retried: they are answers.
 */
export async function handleCommand<S, C, E extends DomainEvent>(
  db: Db,
  decider: Decider<S, C, E>,
  stream: string,
  command: C,
  options: HandleCommandOptions<S> = {},
): Promise<CommandResult<S, E>> {
  const retries = checkRetries(options.maxRetries ?? 3);
  let lastConflict: ExpectedVersionConflictError | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      const result = await db.transaction((tx) => handleCommandInTransaction(tx, decider, stream, command, options));
      return { ...result, attempts: attempt };
    } catch (err) {
      if (!(err instanceof ExpectedVersionConflictError) || options.expectedVersion !== undefined) throw err;
      lastConflict = err;
    }
  }
  throw new ConcurrencyRetriesExhaustedError(stream, retries + 1, lastConflict);
}
