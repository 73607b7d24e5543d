import { InvalidTransitionError, OrdoError, TIMER_EVENT, start, type Snapshot } from '../machine/index.js';
import { appendToStreams, recordInboxMany, type Queryable } from '../store/index.js';
import { stampTrace, type BatchObserver } from './batch-observations.js';
import { resolveAlertsMany, writeInstances, writeTimersMany } from './batch-writes.js';
import { applyIncoming, applyMachineEvent, applyStepFailure, parseStepTimerId, recordTransition, resendCommand, type ApplyContext, type ApplyOutcome } from './apply-event.js';
import { DeadLetterNotFoundError, SagaNotFoundError } from './errors.js';
import { insertDeadLetter, lockInstances, writeAttemptsAndAlerts } from './instance-sql.js';
import type { MachineRegistry } from './machine-registry.js';
import { deleteParked, loadParked, parkMessage, postponeParked, type ParkedRow } from './parked-messages.js';
import { MachineVersionMissingError } from './errors.js';
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

interface DeadLetterRow {
  readonly id: string;
  readonly message_id: string;
  readonly saga_id: string | null;
  readonly message: IncomingMessage;
  readonly origin: 'message' | 'timer';
}

type TimerItem = Extract<WorkItem, { kind: 'timer' }>;

/** A dead-lettered timer's message carries what firing it again needs. */
function timerOfDeadLetter(row: DeadLetterRow): TimerItem {
  const p = (row.message.payload ?? {}) as { timer?: unknown; timerKind?: unknown; purpose?: unknown };
  const timerKind = p.timerKind === 'step' ? 'step' : 'machine';
  const purpose = p.purpose === 'resend' || p.purpose === 'timeout' ? p.purpose : 'fire';
  return { kind: 'timer', sagaId: row.message.key, timerId: typeof p.timer === 'string' ? p.timer : '', timerKind, purpose };
}

/** A start that failed after its first event's id was recorded: the event was not handled. */
async function forgetInbox(tx: Queryable, consumer: string, messageId: string): Promise<void> {
  await tx.query('DELETE FROM ordo_inbox WHERE consumer = $1 AND message_id = $2', [consumer, messageId]);
}

/** Undo for a WorkingInstance when applying one input failed half-way. */
function mark(w: WorkingInstance) {
  const saved = { snapshot: w.snapshot, pending: w.pending, status: w.status, revision: w.revision, log: w.log.length, timers: w.timerOps.length, attempts: w.attempts.length, alerts: w.alerts.length, resolve: w.resolveAlerts };
  return () => {
    w.snapshot = saved.snapshot;
    w.pending = saved.pending;
    w.status = saved.status;
    w.revision = saved.revision;
    w.log.length = saved.log;
    w.timerOps.length = saved.timers;
    w.attempts.length = saved.attempts;
    w.alerts.length = saved.alerts;
    w.resolveAlerts = saved.resolve;
  };
}

/** The saga's state cannot take the event *yet*: it may later (a finished saga never will). */
function tooEarly(w: WorkingInstance, err: unknown): boolean {
  // Only "not accepted in this state": an unknown event, a bad payload or a broken definition never becomes acceptable.
  return err instanceof InvalidTransitionError && err.reason === new InvalidTransitionError('', '', '').reason && w.status !== 'final';
}

function errorInfo(err: unknown): { code: string; reason: string } {
  if (err instanceof OrdoError) return { code: err.code, reason: err.message };
  return { code: 'HANDLER_ERROR', reason: err instanceof Error ? err.message : String(err) };
}

function sagaIdOf(item: WorkItem, replays: Map<string, DeadLetterRow>): string | undefined {
  switch (item.kind) {
    case 'start':
    case 'unpark':
    case 'timer':
    case 'retry-compensation':
      return item.sagaId;
    case 'message':
      return item.message.key;
    case 'replay':
      return replays.get(item.deadLetterId)?.message.key;
  }
}

/**
 * Applies many instances' inputs in the caller's transaction (group commit): locks the
 * instances, records inbox entries, runs the pure transitions in memory, then writes each
 * changed instance once (snapshot + revision, its stream in the log = timeline + outbox,
 * timers, retry history, alerts). A poison input is dead-lettered and the batch goes on.
 */
export async function processBatch(tx: Queryable, items: readonly WorkItem[], deps: BatchDeps): Promise<WorkResult[]> {
  const replayIds = items.flatMap((i) => (i.kind === 'replay' ? [i.deadLetterId] : []));
  const replays = new Map<string, DeadLetterRow>();
  if (replayIds.length > 0) {
    const r = await tx.query<DeadLetterRow>(
      `SELECT id::text AS id, message_id, saga_id, message, origin FROM ordo_dead_letters WHERE id = ANY($1::bigint[]) AND replayed_at IS NULL ORDER BY id FOR UPDATE`,
      [replayIds.filter((id) => /^\d+$/.test(id))],
    );
    for (const row of r.rows) replays.set(row.id, row);
  }

  const ids = items.map((i) => sagaIdOf(i, replays)).filter((id): id is string => typeof id === 'string');
  const rows = await lockInstances(tx, ids);

  // Inbox after the instance locks, in id order: concurrent batches cannot deadlock.
  const messageIds = [...new Set(items.flatMap((i) => (i.kind === 'message' ? [i.message.id] : i.kind === 'start' && i.first ? [i.first.id] : [])))].sort();
  const fresh = await recordInboxMany(tx, deps.consumer, messageIds);

  const working = new Map<string, WorkingInstance>();
  const instance = (id: string): WorkingInstance | undefined => {
    const existing = working.get(id);
    if (existing) return existing;
    const row: InstanceRow | undefined = rows.get(id);
    if (!row) return undefined;
    const w = new WorkingInstance(row.id, row.machine_id, row.machine_version, row, row.snapshot);
    working.set(id, w);
    return w;
  };
  const machineOf = (w: WorkingInstance) => {
    const m = deps.registry.get(w.machineId, w.machineVersion);
    if (!m) throw new MachineVersionMissingError([{ machine: w.machineId, version: w.machineVersion, instances: 1 }]);
    return m;
  };
  const result = (w: WorkingInstance, o: ApplyOutcome): WorkResult => {
    const state = w.snapshot.state;
    if (o.kind === 'stale') return { status: 'stale', sagaId: w.id, state };
    if (o.kind === 'retry-scheduled') return { status: 'retry-scheduled', sagaId: w.id, state, attempt: o.attempt, retryInMs: o.retryInMs };
    return { status: 'applied', sagaId: w.id, state, changed: o.changed };
  };
  const deadLetter = async (message: IncomingMessage, err: unknown, w: WorkingInstance | undefined, origin: 'message' | 'timer' = 'message'): Promise<WorkResult> => {
    const { code, reason } = errorInfo(err);
    const deadLetterId = await insertDeadLetter(tx, { messageId: message.id, sagaId: w?.id ?? null, message, code, reason, origin });
    if (w) {
      w.revision += 1;
      w.log.push({
        id: `${w.id}/${w.revision}`,
        type: 'ordo.dead-lettered',
        data: { messageId: message.id, type: message.type, code, reason, deadLetterId, revision: w.revision },
        metadata: { kind: 'timeline', key: w.id, machine: w.machineId, machineVersion: w.machineVersion, causationId: message.id },
      });
    }
    return { status: 'dead-lettered', messageId: message.id, deadLetterId, code, reason };
  };

  const unparkAsked = new Set<string>();
  const results: WorkResult[] = [];
  for (const item of items) {
    const id = sagaIdOf(item, replays);
    const from = id === undefined ? 0 : (working.get(id)?.log.length ?? 0);
    results.push(await one(item));
    if (id !== undefined) stampTrace(working.get(id), from, deps.observer?.traceOf(item));
  }

  async function applyMessage(m: IncomingMessage, park = true): Promise<WorkResult> {
    if (!fresh.delete(m.id)) return { status: 'duplicate', messageId: m.id };
    const w = instance(m.key);
    if (!w) return park ? parkEarly(m, new SagaNotFoundError(m.key)) : deadLetter(m, new SagaNotFoundError(m.key), undefined);
    const undo = mark(w);
    try {
      return result(w, applyIncoming(w, machineOf(w), m, deps.apply));
    } catch (err) {
      undo();
      return park && tooEarly(w, err) ? parkEarly(m, err) : deadLetter(m, err, w);
    }
  }

  /** Not handled: the inbox entry goes, so a redelivery is applied (or parked again), never dropped. */
  async function parkEarly(m: IncomingMessage, err: unknown): Promise<WorkResult> {
    const { code, reason } = errorInfo(err);
    await forgetInbox(tx, deps.consumer, m.id);
    await parkMessage(tx, { message: m, code, reason, now: deps.apply.now });
    return { status: 'parked', messageId: m.id, sagaId: m.key, code, reason };
  }

  /**
   * Parked messages of the sagas this batch moved to another state (or created), and of
   * those the poller asked for: each is applied once the state takes it, in arrival order.
   */
  async function applyParked(): Promise<void> {
    const moved = [...working.values()].filter((w) => unparkAsked.has(w.id) || w.snapshot.state !== w.loaded?.snapshot.state);
    const parked = await loadParked(tx, moved.map((w) => w.id));
    if (parked.length === 0) return;
    const unhandled = await recordInboxMany(tx, deps.consumer, parked.map((p) => p.message_id));
    const done: string[] = [];
    let waiting = parked.filter((p) => unhandled.has(p.message_id) || (done.push(p.id), false));
    for (let progress = true; progress && waiting.length > 0; ) {
      progress = false;
      const still: ParkedRow[] = [];
      for (const p of waiting) {
        const w = working.get(p.saga_id);
        if (!w) continue;
        const undo = mark(w);
        try {
          applyIncoming(w, machineOf(w), p.message, deps.apply);
          done.push(p.id);
          progress = true;
        } catch (err) {
          undo();
          if (tooEarly(w, err)) still.push(p);
          else {
            done.push(p.id);
            await deadLetter(p.message, err, w);
          }
        }
      }
      waiting = still;
    }
    await deleteParked(tx, done);
    if (waiting.length > 0) await tx.query('DELETE FROM ordo_inbox WHERE consumer = $1 AND message_id = ANY($2::text[])', [deps.consumer, waiting.map((p) => p.message_id)]);
    await postponeParked(tx, waiting.filter((p) => unparkAsked.has(p.saga_id)), deps.apply.now);
  }

  /** Fires one of the engine's timers: a machine `after`, or a step's resend / reply timeout. Throws what the machine throws. */
  function fireTimer(w: WorkingInstance, item: TimerItem): WorkResult {
    const machine = machineOf(w);
    if (item.timerKind === 'machine') return result(w, applyMachineEvent(w, machine, { type: TIMER_EVENT, timer: item.timerId }, { type: TIMER_EVENT, messageId: `timer:${item.timerId}` }, deps.apply));
    const at = parseStepTimerId(item.timerId);
    if (!at) return { status: 'stale', sagaId: w.id, state: w.snapshot.state };
    if (item.purpose === 'resend') return result(w, resendCommand(w, machine, at, deps.apply));
    const reason = `no reply within ${deps.apply.retry.replyTimeoutMs ?? 0} ms`;
    return result(w, applyStepFailure(w, machine, { ...at, retryable: true, reason, unanswered: true }, { type: 'ordo.step.timeout' }, deps.apply));
  }

  async function one(item: WorkItem): Promise<WorkResult> {
    switch (item.kind) {
      case 'start': {
        const first = item.first ? { ...item.first, key: item.sagaId } : undefined;
        const existing = instance(item.sagaId);
        if (existing) {
          // Started before (a retried request): its first event is an ordinary, idempotent delivery.
          if (first) await applyMessage(first);
          return { status: 'exists', sagaId: item.sagaId, state: existing.snapshot.state, version: existing.machineVersion };
        }
        try {
          const machine = deps.registry.newest(item.machineId);
          const r = start(machine, item.context);
          const blank: Snapshot = { ...r.snapshot, state: '', steps: [], timers: [] };
          const w = new WorkingInstance(item.sagaId, machine.id, machine.version, undefined, blank);
          recordTransition(w, machine, r, { type: 'ordo.start' }, deps.apply);
          // The first event commits with the start or not at all: no instance is ever left waiting for it.
          if (first && fresh.delete(first.id)) applyIncoming(w, machine, first, deps.apply);
          working.set(item.sagaId, w);
          return { status: 'started', sagaId: w.id, state: w.snapshot.state, version: machine.version };
        } catch (err) {
          if (first) await forgetInbox(tx, deps.consumer, first.id);
          return { status: 'rejected', error: err as Error };
        }
      }
      case 'message':
        return applyMessage(item.message, item.park !== false);
      case 'unpark': {
        const w = instance(item.sagaId);
        if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
        unparkAsked.add(w.id);
        return { status: 'applied', sagaId: w.id, state: w.snapshot.state, changed: false };
      }
      case 'replay': {
        const row = replays.get(item.deadLetterId);
        if (!row) return { status: 'rejected', error: new DeadLetterNotFoundError(item.deadLetterId) };
        replays.delete(item.deadLetterId);
        const w = instance(row.message.key);
        let outcome: WorkResult;
        if (!w) outcome = { status: 'rejected', error: new SagaNotFoundError(row.message.key) };
        else {
          const undo = mark(w);
          try {
            outcome = row.origin === 'timer' ? fireTimer(w, timerOfDeadLetter(row)) : result(w, applyIncoming(w, machineOf(w), row.message, deps.apply));
          } catch (err) {
            undo();
            outcome = { status: 'rejected', error: err as Error };
          }
        }
        if (outcome.status === 'rejected') {
          const { code, reason } = errorInfo(outcome.error);
          await tx.query('UPDATE ordo_dead_letters SET attempts = attempts + 1, error_code = $2, reason = $3 WHERE id = $1', [row.id, code, reason]);
        } else {
          await tx.query('UPDATE ordo_dead_letters SET replayed_at = now() WHERE id = $1', [row.id]);
        }
        return outcome;
      }
      case 'timer': {
        const w = instance(item.sagaId);
        if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
        const undo = mark(w);
        try {
          return fireTimer(w, item);
        } catch (err) {
          undo();
          // A timer the machine cannot take is a definition problem: keep it visible, never lose it,
          // with what firing it again (a replay, after the fix) needs.
          const payload = { timer: item.timerId, timerKind: item.timerKind, purpose: item.purpose };
          return deadLetter({ id: `timer:${w.id}:${item.timerId}:${deps.apply.now}`, key: w.id, type: TIMER_EVENT, payload }, err, w, 'timer');
        }
      }
      case 'retry-compensation': {
        const w = instance(item.sagaId);
        if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
        const undo = mark(w);
        try {
          w.resolveAlerts = true;
          return result(w, applyMachineEvent(w, machineOf(w), { type: item.event }, { type: item.event, messageId: `operator:${w.id}:${w.revision}` }, deps.apply));
        } catch (err) {
          undo();
          return { status: 'rejected', error: err as Error };
        }
      }
    }
  }

  await applyParked();

  const dirty = [...working.values()].filter((w) => w.dirty || !w.loaded);
  const appending = dirty.filter((w) => w.log.length > 0);
  const versions = await appendToStreams(
    tx,
    appending.map((w) => ({ stream: deps.streamOf(w.machineId, w.id), expectedVersion: w.loaded?.stream_version ?? 0, messages: w.log })),
  );
  const appended = new Map(appending.map((w, i) => [w, versions[i]?.nextExpectedVersion ?? 0]));
  const written = dirty.map((w) => ({ w, streamVersion: appended.get(w) ?? w.loaded?.stream_version ?? 0 }));
  await writeInstances(tx, written);
  await writeTimersMany(tx, dirty);
  await resolveAlertsMany(tx, dirty);
  for (const w of dirty) await writeAttemptsAndAlerts(tx, w);
  deps.observer?.written(dirty, results);
  return results;
}
