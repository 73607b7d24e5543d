import { OrdoError } from '../machine/index.js';
import type { IncomingMessage } from '../runtime/index.js';
import { opaque, runParticipant, type AnyParticipant, type SystemDefinition, type SystemMessage } from '../verify/index.js';

/** A trace step the replayer cannot carry out (unknown action, or a message the trace names is not there). */
export class TraceStepNotReplayableError extends OrdoError {
  readonly code = 'TRACE_STEP_NOT_REPLAYABLE';
  readonly retryable = false;
  constructor(
    readonly step: number,
    readonly action: string,
    readonly reason: string,
  ) {
    super(`trace step ${step} (${action}) cannot be replayed: ${reason}`);
  }
}

/** A command the engine wrote to its outbox, as it sits in a replayed queue. */
export interface QueuedCommand {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
}

/**
 * A reply to a command: its id is the command's id plus the answer, so the same
 * command answered the same way again (a duplicate, a redelivery after a crash) is the
 * same message, and the engine's inbox sees the repeat exactly as the model's queues
 * carry it; a different answer is a different message.
 */
export function replyTo(cmd: QueuedCommand, sagaId: string, answer: SystemMessage): IncomingMessage {
  return { id: `${cmd.id}/${answer.type}`, key: sagaId, type: answer.type, payload: answer.payload };
}

/**
 * The participants of a system definition, replayed in memory with their own deciders
 * (the ones the services run and the checker tabulates): per key each participant's
 * local state, per participant its shared state. They answer the commands the real
 * engine sent, with the world's choice the trace names.
 */
export class DeciderServices {
  readonly shared: Record<string, unknown>;
  readonly locals: Record<string, unknown>[];
  private readonly replies: ReadonlySet<string>;

  constructor(
    readonly definition: SystemDefinition,
    keys: number,
    /** Shared states to start from (a trace's initial state); default the definition's. */
    shared: Readonly<Record<string, unknown>> = {},
  ) {
    this.shared = Object.fromEntries(definition.participants.map((p) => [p.name, shared[p.name] ?? definition.initialShared[p.name] ?? null]));
    this.locals = Array.from({ length: keys }, () => Object.fromEntries(definition.participants.map((p) => [p.name, p.initialLocal()])));
    const env = new Set(definition.environment.map((e) => e.event));
    this.replies = new Set(Object.keys(definition.machine.eventSchemas).filter((e) => !env.has(e)));
  }

  participant(name: string): AnyParticipant | undefined {
    return this.definition.participants.find((p) => p.name === name);
  }

  /** The choice index of a fault for a command (0: the normal answer); -1 if the participant has no such choice. */
  choiceIndex(name: string, command: string, fault: string | undefined): number {
    if (fault === undefined) return 0;
    return (this.participant(name)?.choices?.[command] ?? []).findIndex((c: { fault?: string }) => c.fault === fault);
  }

  /** Participant `name` handles a command for key `key` with choice `x`; returns the answers the orchestrator receives. */
  handle(name: string, key: number, cmd: { type: string; payload: unknown }, x: number): SystemMessage[] {
    const p = this.participant(name);
    const locals = this.locals[key];
    if (!p || !locals) return [];
    const choice = (p.choices?.[cmd.type] as { value: unknown }[] | undefined)?.[x]?.value;
    let r;
    try {
      r = runParticipant(opaque(p), cmd, { local: locals[name], shared: this.shared[name] }, choice);
    } catch {
      return []; // refused by the decider: dead-lettered by the service, nothing changes
    }
    locals[name] = r.state.local;
    this.shared[name] = r.state.shared;
    const out: SystemMessage[] = [];
    for (const a of r.answers as SystemMessage[]) {
      if (this.replies.has(a.type)) out.push(a);
      for (const re of this.definition.wiring.reactions ?? []) if (re.from === name && re.event === a.type) out.push(...this.handle(re.to, key, a, 0));
    }
    return out;
  }
}
