import { OrdoError, TIMER_EVENT, isFinal, transition, type AnyEvent, type TransitionResult } from '../machine/index.js';
import { START, transitionData } from '../eventsourcing/index.js';
import type { AnyMachine } from './machine-registry.js';
import { failureEventFor } from './machine-registry.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';
import { STEP_FAILED, StepFailedPayload } from './step-failed.js';
import { topicOf, type TopicMapping } from './topics.js';
import type { PendingCommand, SagaStatus, WorkingInstance } from './working-instance.js';

/** What applying one input to an instance needs from the engine. */
export interface ApplyContext {
  readonly now: number;
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly topics: TopicMapping;
}

/** Where an input came from, for the timeline and causation ids. */
export interface Trigger {
  readonly type: string;
  readonly messageId?: string;
}

export type ApplyOutcome =
  | { readonly kind: 'applied'; readonly changed: boolean }
  | { readonly kind: 'retry-scheduled'; readonly attempt: number; readonly retryInMs: number }
  | { readonly kind: 'stale' };

export const STEP_TIMER_PREFIX = 'ordo.step/';

export function stepTimerId(step: string, compensation: boolean, seq: number): string {
  return `${STEP_TIMER_PREFIX}${step}/${compensation ? 'c' : 'a'}#${seq}`;
}
export function parseStepTimerId(id: string): { step: string; compensation: boolean; seq: number } | undefined {
  const m = /^ordo\.step\/(.+)\/([ac])#(\d+)$/.exec(id);
  return m ? { step: m[1] ?? '', compensation: m[2] === 'c', seq: Number(m[3]) } : undefined;
}

function statusOf(machine: AnyMachine, state: string): SagaStatus {
  if (isFinal(machine, state)) return 'final';
  return machine.states[state]?.tags.includes('alert') ? 'parked' : 'active';
}

function commandMessage(w: WorkingInstance, machine: AnyMachine, cmd: PendingCommand, id: string, ctx: ApplyContext, causationId: string | undefined) {
  return {
    id,
    type: cmd.effect.message,
    data: cmd.effect.payload,
    metadata: {
      topic: topicOf(ctx.topics, machine.id, cmd.effect),
      key: w.id,
      kind: 'command',
      to: cmd.effect.to,
      step: cmd.step,
      compensation: cmd.compensation,
      attempt: cmd.attempts,
      machine: machine.id,
      machineVersion: machine.version,
      ...(causationId === undefined ? {} : { causationId }),
    },
  };
}

/** Makes a transition's result part of the instance: snapshot, timeline, outbox, timers, alerts. */
export function recordTransition(w: WorkingInstance, machine: AnyMachine, r: TransitionResult, trigger: Trigger, ctx: ApplyContext, input: { readonly type: string } = trigger): void {
  const from = w.snapshot.state;
  const starting = trigger.type === START;
  // The event-sourcing record (event payload, context changes) plus the engine's own
  // fields: the saga's stream is the order's event stream (one source of truth).
  const startInput: { readonly type: string } = { type: START, context: r.snapshot.context } as { readonly type: string };
  const recorded = transitionData(starting ? null : w.snapshot, starting ? startInput : input, r);
  // The record replays with the machine alone, so its trigger is the event the machine saw;
  // an input the engine turned into it (a StepFailed → the step's failure event) stays as `via`.
  const recordedTrigger = input.type === trigger.type ? trigger : { ...trigger, type: input.type, via: trigger.type };
  const rev = w.appendTimeline(r.changed ? 'ordo.transition' : 'ordo.ignored', { ...recorded, trigger: recordedTrigger, effects: r.effects }, trigger.messageId ? { causationId: trigger.messageId } : {});
  w.snapshot = r.snapshot;
  if (!r.changed) return;
  if (r.path.length > 0) leaveState(w);
  performEffects(w, machine, r, rev, trigger, ctx, from);
}

/** A new state entry: step commands of the previous one are no longer awaited, and whatever an alert said about the old state is no longer true. */
export function leaveState(w: WorkingInstance): void {
  w.pending = [];
  w.timerOps.push({ op: 'clear', kind: 'step' });
  w.resolveAlerts = true;
}

/**
 * Performs a result's effects as part of the instance (timers armed or cancelled, commands
 * and events appended to its stream: the outbox) and updates its status; `rev` is the
 * timeline revision the effects' message ids derive from.
 */
export function performEffects(w: WorkingInstance, machine: AnyMachine, r: TransitionResult, rev: number, trigger: Trigger, ctx: ApplyContext, from: string): void {
  r.effects.forEach((e, i) => {
    const id = `${w.id}/${rev}/${i}`;
    switch (e.kind) {
      case 'timer.set':
        w.timerOps.push({ op: 'set', timerId: e.timer, kind: 'machine', purpose: 'fire', dueAt: ctx.now + e.delayMs });
        break;
      case 'timer.cancel':
        w.timerOps.push({ op: 'cancel', timerId: e.timer });
        break;
      case 'publish':
        w.log.push({
          id,
          type: e.message,
          data: e.payload,
          metadata: { topic: topicOf(ctx.topics, machine.id, e), key: w.id, kind: 'event', machine: machine.id, machineVersion: machine.version, ...(trigger.messageId ? { causationId: trigger.messageId } : {}) },
        });
        break;
      case 'send': {
        const cmd: PendingCommand = { step: e.step ?? '', compensation: e.compensation === true, seq: r.snapshot.seq, attempts: 1, effect: e };
        w.log.push(commandMessage(w, machine, cmd, id, ctx, trigger.messageId));
        if (e.step !== undefined) {
          w.pending = [...w.pending.filter((p) => !(p.step === cmd.step && p.compensation === cmd.compensation)), cmd];
          if (ctx.retry.replyTimeoutMs !== undefined) {
            w.timerOps.push({ op: 'set', timerId: stepTimerId(cmd.step, cmd.compensation, cmd.seq), kind: 'step', purpose: 'timeout', dueAt: ctx.now + ctx.retry.replyTimeoutMs });
          }
        }
        break;
      }
    }
  });
  const before = w.status;
  w.status = statusOf(machine, r.snapshot.state);
  if (w.status === 'final') {
    w.pending = [];
    w.timerOps.push({ op: 'clear', kind: 'all' });
  }
  if (w.status === 'parked' && before !== 'parked') {
    const context = r.snapshot.context as Record<string, unknown> | null;
    w.alerts.push({ kind: 'saga-parked', detail: { state: r.snapshot.state, from, trigger: trigger.type, reason: context?.['failureReason'] ?? null } });
  }
}

/** Applies a machine event (or a machine timer). Throws the machine's errors for a poison event. */
export function applyMachineEvent(w: WorkingInstance, machine: AnyMachine, event: AnyEvent, trigger: Trigger, ctx: ApplyContext): ApplyOutcome {
  const r = transition(machine, w.snapshot, event as { type: string });
  recordTransition(w, machine, r, trigger, ctx, event);
  return { kind: 'applied', changed: r.changed };
}

/** The machine cannot express the failure of this step: park the saga so an operator sees it. */
export class StepFailureUnhandledError extends OrdoError {
  readonly code = 'STEP_FAILURE_UNHANDLED';
  readonly retryable = false;
  constructor(readonly machine: string, readonly state: string, readonly step: string) {
    super(`${machine}: state ${state} has no failure transition for step ${step}`);
  }
}

/**
 * A step command failed (a StepFailed reply, or no reply in time). Retryable and
 * attempts left: schedule a resend with backoff. Otherwise take the step's failure
 * transition, or park the saga when the machine has none.
 */
export function applyStepFailure(
  w: WorkingInstance,
  machine: AnyMachine,
  failure: { step: string; compensation: boolean; retryable: boolean; reason: string; seq?: number; attempt?: number; unanswered?: boolean },
  trigger: Trigger,
  ctx: ApplyContext,
): ApplyOutcome {
  const cmd = w.pending.find((p) => p.step === failure.step && p.compensation === failure.compensation && (failure.seq === undefined || p.seq === failure.seq));
  if (!cmd || (failure.attempt !== undefined && failure.attempt !== cmd.attempts)) return { kind: 'stale' };
  const retry = failure.retryable && cmd.attempts < ctx.retry.maxAttempts;
  const delay = retry ? backoffDelay(ctx.retry, cmd.attempts, ctx.random) : 0;
  w.attempts.push({ step: cmd.step, compensation: cmd.compensation, seq: cmd.seq, attempt: cmd.attempts, retryable: failure.retryable, error: failure.reason, retryAt: retry ? ctx.now + delay : null });
  if (retry) {
    w.timerOps.push({ op: 'set', timerId: stepTimerId(cmd.step, cmd.compensation, cmd.seq), kind: 'step', purpose: 'resend', dueAt: ctx.now + delay });
    w.appendTimeline('ordo.step.retry-scheduled', { trigger, step: cmd.step, compensation: cmd.compensation, attempt: cmd.attempts, reason: failure.reason, retryInMs: delay });
    return { kind: 'retry-scheduled', attempt: cmd.attempts, retryInMs: delay };
  }
  w.pending = w.pending.filter((p) => p !== cmd);
  if (failure.unanswered === true) {
    // Never answered: the command may or may not have taken effect, so the step's
    // failure transition (which says "nothing to undo") would be a lie. The machine's
    // own timeout decides (it compensates); without one an operator must look.
    if (Object.keys(machine.states[w.snapshot.state]?.after ?? {}).length > 0) return { kind: 'applied', changed: false };
    w.status = 'parked';
    w.alerts.push({ kind: 'step-unanswered', detail: { state: w.snapshot.state, step: cmd.step, compensation: cmd.compensation, attempts: cmd.attempts, reason: failure.reason } });
    return { kind: 'applied', changed: false };
  }
  const event = failureEventFor(machine, w.snapshot.state, cmd.step, cmd.compensation);
  const why = `${cmd.compensation ? 'compensation of ' : ''}${cmd.step} failed${failure.retryable ? ` after ${cmd.attempts} attempts` : ''}: ${failure.reason}`;
  if (event === undefined) {
    w.status = 'parked';
    w.alerts.push({ kind: 'step-failure-unhandled', detail: { state: w.snapshot.state, step: cmd.step, compensation: cmd.compensation, reason: why } });
    return { kind: 'applied', changed: false };
  }
  return applyMachineEvent(w, machine, { type: event, reason: why }, trigger, ctx);
}

/** Resends a step command whose backoff expired. */
export function resendCommand(w: WorkingInstance, machine: AnyMachine, at: { step: string; compensation: boolean; seq: number }, ctx: ApplyContext): ApplyOutcome {
  const cmd = w.pending.find((p) => p.step === at.step && p.compensation === at.compensation && p.seq === at.seq);
  if (!cmd) return { kind: 'stale' };
  const next: PendingCommand = { ...cmd, attempts: cmd.attempts + 1 };
  w.pending = w.pending.map((p) => (p === cmd ? next : p));
  const rev = w.appendTimeline('ordo.step.resent', { step: next.step, compensation: next.compensation, attempt: next.attempts });
  w.log.push(commandMessage(w, machine, next, `${w.id}/${rev}/0`, ctx, undefined));
  if (ctx.retry.replyTimeoutMs !== undefined) {
    w.timerOps.push({ op: 'set', timerId: stepTimerId(next.step, next.compensation, next.seq), kind: 'step', purpose: 'timeout', dueAt: ctx.now + ctx.retry.replyTimeoutMs });
  }
  return { kind: 'applied', changed: false };
}

/** Routes one incoming message: engine-level StepFailed, or a machine event. */
export function applyIncoming(w: WorkingInstance, machine: AnyMachine, message: { id: string; type: string; payload?: unknown }, ctx: ApplyContext): ApplyOutcome {
  const trigger = { type: message.type, messageId: message.id };
  if (message.type === STEP_FAILED) {
    const p = StepFailedPayload.safeParse(message.payload ?? {});
    if (!p.success) throw new InvalidStepFailedError(p.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    return applyStepFailure(w, machine, p.data, trigger, ctx);
  }
  if (message.type === TIMER_EVENT) throw new ForgedTimerEventError();
  const payload = message.payload;
  const fields = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
  return applyMachineEvent(w, machine, { ...fields, type: message.type }, trigger, ctx);
}

export class InvalidStepFailedError extends OrdoError {
  readonly code = 'INVALID_STEP_FAILED';
  readonly retryable = false;
  constructor(readonly issues: readonly string[]) {
    super(`invalid ${STEP_FAILED} message: ${issues.join('; ')}`);
  }
}

/** Timer events come only from the engine's own timer table, never from outside. */
export class ForgedTimerEventError extends OrdoError {
  readonly code = 'FORGED_TIMER_EVENT';
  readonly retryable = false;
  constructor() {
    super(`${TIMER_EVENT} is the engine's own event and is not accepted from a transport`);
  }
}
