import { TIMER_EVENT, start, type Snapshot } from '../machine/index.js';
import { applyIncoming, applyMachineEvent, applyStepFailure, parseStepTimerId, recordTransition, resendCommand } from './apply-event.js';
import { applyMigration } from './batch-migration.js';
import { errorInfo, tooEarly, type BatchContext, type DeadLetterRow } from './batch-context.js';
import { DeadLetterNotFoundError, SagaNotFoundError } from './errors.js';
import type { IncomingMessage, WorkItem, WorkResult } from './work-item.js';
import { WorkingInstance } from './working-instance.js';

/*
 * Applying one input of a batch to the working copies, one function per kind of input.
 * Nothing here writes an instance: the batch writes every changed one at the end. A change
 * that throws half-way is undone by the working copy itself (`applyAtomically`).
 */

type Input<K extends WorkItem['kind']> = Extract<WorkItem, { kind: K }>;

export function applyInput(b: BatchContext, item: WorkItem): Promise<WorkResult> | WorkResult {
  switch (item.kind) {
    case 'start':
      return applyStart(b, item);
    case 'message':
      return applyMessage(b, item.message, item.park !== false);
    case 'unpark':
      return askUnpark(b, item);
    case 'replay':
      return applyReplay(b, item);
    case 'timer':
      return applyTimer(b, item);
    case 'retry-compensation':
      return applyRetryCompensation(b, item);
    case 'migrate':
      return applyMigration(b, item);
  }
}

/** A new instance on the newest machine version, with its first event in the same transaction (atomic start). */
async function applyStart(b: BatchContext, item: Input<'start'>): Promise<WorkResult> {
  const first = item.first ? { ...item.first, key: item.sagaId } : undefined;
  const existing = b.instance(item.sagaId);
  if (existing) {
    // Started before (a retried request): its first event applies if it never did; an instance
    // already past it (started some other way) is left as it is, nothing parked or dead-lettered.
    if (first && b.fresh.delete(first.id)) {
      try {
        existing.applyAtomically(() => applyIncoming(existing, b.machineOf(existing), first, b.deps.apply));
      } catch {
        await b.forgetInbox([first.id]);
      }
    }
    return { status: 'exists', sagaId: item.sagaId, state: existing.snapshot.state, version: existing.machineVersion };
  }
  try {
    const machine = b.deps.registry.newest(item.machineId);
    const r = start(machine, item.context);
    const blank: Snapshot = { ...r.snapshot, state: '', steps: [], timers: [] };
    const w = new WorkingInstance(item.sagaId, machine.id, machine.version, undefined, blank);
    recordTransition(w, machine, r, { type: 'ordo.start' }, b.deps.apply);
    // The first event commits with the start or not at all: no instance is ever left waiting for it.
    if (first && b.fresh.delete(first.id)) applyIncoming(w, machine, first, b.deps.apply);
    b.working.set(item.sagaId, w);
    return { status: 'started', sagaId: w.id, state: w.snapshot.state, version: machine.version };
  } catch (err) {
    if (first) await b.forgetInbox([first.id]);
    return { status: 'rejected', error: err as Error };
  }
}

/** An incoming message: applied, a duplicate, parked when it came too early, or dead-lettered. */
export async function applyMessage(b: BatchContext, m: IncomingMessage, park: boolean): Promise<WorkResult> {
  if (!b.fresh.delete(m.id)) return { status: 'duplicate', messageId: m.id };
  const w = b.instance(m.key);
  if (!w) return park ? b.park(m, new SagaNotFoundError(m.key)) : b.deadLetter(m, new SagaNotFoundError(m.key), undefined);
  try {
    return b.result(w, w.applyAtomically(() => applyIncoming(w, b.machineOf(w), m, b.deps.apply)));
  } catch (err) {
    return park && tooEarly(w, err) ? b.park(m, err) : b.deadLetter(m, err, w);
  }
}

/** The poller's "try this saga's parked messages again": done once the batch's inputs are applied. */
function askUnpark(b: BatchContext, item: Input<'unpark'>): WorkResult {
  const w = b.instance(item.sagaId);
  if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
  b.unparkAsked.add(w.id);
  return { status: 'applied', sagaId: w.id, state: w.snapshot.state, changed: false };
}

/** A dead letter applied again (a message as a message, a timer as that timer); if it fails again it stays, attempts + 1. */
async function applyReplay(b: BatchContext, item: Input<'replay'>): Promise<WorkResult> {
  const row = b.replays.get(item.deadLetterId);
  if (!row) return { status: 'rejected', error: new DeadLetterNotFoundError(item.deadLetterId) };
  b.replays.delete(item.deadLetterId);
  const w = b.instance(row.message.key);
  let outcome: WorkResult;
  if (!w) outcome = { status: 'rejected', error: new SagaNotFoundError(row.message.key) };
  else {
    try {
      outcome = w.applyAtomically(() => (row.origin === 'timer' ? fireTimer(b, w, timerOfDeadLetter(row)) : b.result(w, applyIncoming(w, b.machineOf(w), row.message, b.deps.apply))));
    } catch (err) {
      outcome = { status: 'rejected', error: err as Error };
    }
  }
  if (outcome.status === 'rejected') {
    const { code, reason } = errorInfo(outcome.error);
    await b.tx.query('UPDATE ordo_dead_letters SET attempts = attempts + 1, error_code = $2, reason = $3 WHERE id = $1', [row.id, code, reason]);
  } else {
    await b.tx.query('UPDATE ordo_dead_letters SET replayed_at = now() WHERE id = $1', [row.id]);
  }
  return outcome;
}

/** A due timer; one the machine cannot take is dead-lettered (never lost) with what firing it again needs. */
async function applyTimer(b: BatchContext, item: Input<'timer'>): Promise<WorkResult> {
  const w = b.instance(item.sagaId);
  if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
  try {
    return w.applyAtomically(() => fireTimer(b, w, item));
  } catch (err) {
    const payload = { timer: item.timerId, timerKind: item.timerKind, purpose: item.purpose };
    return b.deadLetter({ id: `timer:${w.id}:${item.timerId}:${b.deps.apply.now}`, key: w.id, type: TIMER_EVENT, payload }, err, w, 'timer');
  }
}

/** Fires one of the engine's timers: a machine `after`, or a step's resend / reply timeout. Throws what the machine throws. */
function fireTimer(b: BatchContext, w: WorkingInstance, item: Input<'timer'>): WorkResult {
  const machine = b.machineOf(w);
  const ctx = b.deps.apply;
  if (item.timerKind === 'machine') return b.result(w, applyMachineEvent(w, machine, { type: TIMER_EVENT, timer: item.timerId }, { type: TIMER_EVENT, messageId: `timer:${item.timerId}` }, ctx));
  const at = parseStepTimerId(item.timerId);
  if (!at) return { status: 'stale', sagaId: w.id, state: w.snapshot.state };
  if (item.purpose === 'resend') return b.result(w, resendCommand(w, machine, at, ctx));
  const reason = `no reply within ${ctx.retry.replyTimeoutMs ?? 0} ms`;
  return b.result(w, applyStepFailure(w, machine, { ...at, retryable: true, reason, unanswered: true }, { type: 'ordo.step.timeout' }, ctx));
}

/** A dead-lettered timer's message carries what firing it again needs. */
function timerOfDeadLetter(row: DeadLetterRow): Input<'timer'> {
  const p = (row.message.payload ?? {}) as { timer?: unknown; timerKind?: unknown; purpose?: unknown };
  const timerKind = p.timerKind === 'step' ? 'step' : 'machine';
  const purpose = p.purpose === 'resend' || p.purpose === 'timeout' ? p.purpose : 'fire';
  return { kind: 'timer', sagaId: row.message.key, timerId: typeof p.timer === 'string' ? p.timer : '', timerKind, purpose };
}

/** An operator's retry of a parked saga: resolves its alerts and sends the machine's retry event. */
function applyRetryCompensation(b: BatchContext, item: Input<'retry-compensation'>): WorkResult {
  const w = b.instance(item.sagaId);
  if (!w) return { status: 'rejected', error: new SagaNotFoundError(item.sagaId) };
  try {
    return w.applyAtomically(() => {
      w.resolveAlerts = true;
      return b.result(w, applyMachineEvent(w, b.machineOf(w), { type: item.event }, { type: item.event, messageId: `operator:${w.id}:${w.revision}` }, b.deps.apply));
    });
  } catch (err) {
    return { status: 'rejected', error: err as Error };
  }
}
