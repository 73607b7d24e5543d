import { InvalidTransitionError, OrdoError } from '../machine/index.js';
import { recordInboxStatement, runStatements, type Queryable, type ReadingStatement } from '../store/index.js';
import type { BatchObserver } from './batch-observations.js';
import type { ApplyContext, ApplyOutcome } from './apply-event.js';
import { BatchCacheMissError, MachineVersionMissingError } from './errors.js';
import { insertDeadLetter, lockInstancesStatement } from './instance-sql.js';
import type { AnyMachine, MachineRegistry } from './machine-registry.js';
import { loadParkedStatement, parkMessage, type ParkedRow } from './parked-messages.js';
import type { IncomingMessage, WorkItem, WorkResult } from './work-item.js';
import { WorkingInstance, type InstanceRow } from './working-instance.js';

export interface BatchDeps {
  readonly registry: MachineRegistry;
  readonly consumer: string;
  readonly streamOf: (machineId: string, sagaId: string) => string;
  readonly apply: ApplyContext;
  /** Metrics and traces: the inputs' trace context, and what the batch wrote. */
  readonly observer?: BatchObserver;
}

export interface DeadLetterRow {
  readonly id: string;
  readonly message_id: string;
  readonly saga_id: string | null;
  readonly message: IncomingMessage;
  readonly origin: 'message' | 'timer';
}

export function errorInfo(err: unknown): { code: string; reason: string } {
  if (err instanceof OrdoError) return { code: err.code, reason: err.message };
  return { code: 'HANDLER_ERROR', reason: err instanceof Error ? err.message : String(err) };
}

const NOT_ACCEPTED = new InvalidTransitionError('', '', '').reason;

/** The saga's state cannot take the event *yet*: it may later (a finished saga never will). */
export function tooEarly(w: WorkingInstance, err: unknown): boolean {
  // Only "not accepted in this state": an unknown event, a bad payload or a broken definition never becomes acceptable.
  return err instanceof InvalidTransitionError && err.reason === NOT_ACCEPTED && w.status !== 'final';
}

/** Forgets inbox entries of messages that were not handled after all (parked, or a start that failed). */
export async function forgetInbox(tx: Queryable, consumer: string, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length > 0) await tx.query('DELETE FROM ordo_inbox WHERE consumer = $1 AND message_id = ANY($2::text[])', [consumer, [...messageIds]]);
}

/**
 * One batch transaction's state: what was loaded and locked, which message ids are new,
 * and the working copy of every instance it touches.
 */
export class BatchContext {
  readonly working = new Map<string, WorkingInstance>();
  /** Sagas whose parked messages the poller asked to try again. */
  readonly unparkAsked = new Set<string>();
  /** The parked messages of the batch's sagas, oldest first: loaded and locked with the instances, and what this batch parks. */
  readonly parked: ParkedRow[];

  constructor(
    readonly tx: Queryable,
    readonly deps: BatchDeps,
    readonly rows: ReadonlyMap<string, InstanceRow>,
    /** Message ids this batch recorded first in the inbox; each is taken once. */
    readonly fresh: Set<string>,
    readonly replays: Map<string, DeadLetterRow>,
    parked: readonly ParkedRow[],
    /** Built from the instance cache, not loaded: nothing may be written before the batch's checks run. */
    readonly skippedLoad = false,
  ) {
    this.parked = [...parked];
  }

  /** Forgets inbox entries (see `forgetInbox`); a batch that skipped its load runs again with one instead. */
  async forgetInbox(messageIds: readonly string[]): Promise<void> {
    this.needsLoad('an inbox entry to forget');
    await forgetInbox(this.tx, this.deps.consumer, messageIds);
  }

  /**
   * Inputs that write before the batch's writes (a dead letter, a parked message, a start's
   * forgotten first event) need the load's locks and inbox first: a forgotten inbox entry
   * would be recorded again by the checks (a lost message). A parked one would also trip
   * the batch's no-parked check; stopping here saves the wasted round trip.
   */
  private needsLoad(what: string): void {
    if (this.skippedLoad) throw new BatchCacheMissError(what);
  }

  /** The working copy of a stored (or this batch's new) instance. */
  instance(id: string): WorkingInstance | undefined {
    const existing = this.working.get(id);
    if (existing) return existing;
    const row = this.rows.get(id);
    if (!row) return undefined;
    const w = new WorkingInstance(row.id, row.machine_id, row.machine_version, row, row.snapshot);
    this.working.set(id, w);
    return w;
  }

  machineOf(w: WorkingInstance): AnyMachine {
    const m = this.deps.registry.get(w.machineId, w.machineVersion);
    if (!m) throw new MachineVersionMissingError([{ machine: w.machineId, version: w.machineVersion, instances: 1 }]);
    return m;
  }

  result(w: WorkingInstance, o: ApplyOutcome): WorkResult {
    const state = w.snapshot.state;
    if (o.kind === 'stale') return { status: 'stale', sagaId: w.id, state };
    if (o.kind === 'retry-scheduled') return { status: 'retry-scheduled', sagaId: w.id, state, attempt: o.attempt, retryInMs: o.retryInMs };
    return { status: 'applied', sagaId: w.id, state, changed: o.changed };
  }

  /** A poison input: into the dead letters with the reason, and a line in its saga's timeline. */
  async deadLetter(message: IncomingMessage, err: unknown, w: WorkingInstance | undefined, origin: 'message' | 'timer' = 'message'): Promise<WorkResult> {
    this.needsLoad('a dead letter');
    const { code, reason } = errorInfo(err);
    const deadLetterId = await insertDeadLetter(this.tx, { messageId: message.id, sagaId: w?.id ?? null, message, code, reason, origin });
    w?.appendTimeline('ordo.dead-lettered', { messageId: message.id, type: message.type, code, reason, deadLetterId }, { causationId: message.id });
    return { status: 'dead-lettered', messageId: message.id, deadLetterId, code, reason };
  }

  /** Too early: kept aside and its inbox entry dropped, so a redelivery is applied (or parked again), never lost as a duplicate. */
  async park(m: IncomingMessage, err: unknown): Promise<WorkResult> {
    this.needsLoad('a message to park');
    const { code, reason } = errorInfo(err);
    await forgetInbox(this.tx, this.deps.consumer, [m.id]);
    const row = await parkMessage(this.tx, { message: m, code, reason, now: this.deps.apply.now });
    // Parked again (a redelivery of a parked message) keeps its place in the arrival order.
    const at = this.parked.findIndex((p) => p.id === row.id);
    if (at >= 0) this.parked[at] = row;
    else this.parked.push(row);
    return { status: 'parked', messageId: m.id, sagaId: m.key, code, reason };
  }
}

const NO_REPLAYS: ReadonlyMap<string, DeadLetterRow> = new Map();

/** The saga an input is for (a replay: the dead-lettered message's key, when its row is among `replays`). */
export function sagaIdOf(item: WorkItem, replays = NO_REPLAYS): string | undefined {
  switch (item.kind) {
    case 'start':
    case 'unpark':
    case 'timer':
    case 'retry-compensation':
    case 'migrate':
      return item.sagaId;
    case 'message':
      return item.message.key;
    case 'replay':
      return replays.get(item.deadLetterId)?.message.key;
  }
}

/** The ids of the messages a batch's inputs bring: each message's, each start's first event's. */
export function messageIdsOf(items: readonly WorkItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'message' ? [i.message.id] : i.kind === 'start' && i.first ? [i.first.id] : []));
}

/**
 * Loads a batch: the dead letters it replays, then — in one round trip where the database
 * allows — its instances locked in id order, its message ids recorded in the inbox (after
 * the locks, in id order: concurrent batches cannot deadlock) and its sagas' parked messages.
 */
export async function loadBatch(tx: Queryable, items: readonly WorkItem[], deps: BatchDeps): Promise<BatchContext> {
  const replays = new Map<string, DeadLetterRow>();
  const replayIds = items.flatMap((i) => (i.kind === 'replay' && /^\d+$/.test(i.deadLetterId) ? [i.deadLetterId] : []));
  if (replayIds.length > 0) {
    const r = await tx.query<DeadLetterRow>(
      `SELECT id::text AS id, message_id, saga_id, message, origin FROM ordo_dead_letters WHERE id = ANY($1::bigint[]) AND replayed_at IS NULL ORDER BY id FOR UPDATE`,
      [replayIds],
    );
    for (const row of r.rows) replays.set(row.id, row);
  }
  const ids = [...new Set(items.map((i) => sagaIdOf(i, replays)).filter((id): id is string => typeof id === 'string'))].sort();
  const messageIds = messageIdsOf(items);
  const lock = lockInstancesStatement(ids);
  const inbox = recordInboxStatement(deps.consumer, [...new Set(messageIds)].sort());
  const parked = loadParkedStatement(ids);
  const parts: ReadingStatement<unknown>[] = [lock, inbox, parked].filter((s): s is ReadingStatement<never> => s !== undefined);
  const results = await runStatements(tx, parts.map((p) => p.statement));
  const readOf = <T>(s: ReadingStatement<T> | undefined, empty: T): T => {
    const i = s ? parts.indexOf(s) : -1;
    const r = results[i];
    return s && r ? s.read(r) : empty;
  };
  return new BatchContext(tx, deps, readOf(lock, new Map()), readOf(inbox, new Set<string>()), replays, readOf(parked, []));
}
