import { canonicalJson } from './canonical-json.js';
import { ModelBoundError } from './errors.js';
import { opaque, runParticipant, type AnyParticipant, type SystemMessage } from './participant.js';

/** A reaction: the event a participant publishes, handled as a command by another one in the same step. */
export interface TableReaction {
  readonly participant: number;
  readonly code: number;
}

export interface TableHooks {
  /** Reply code (1-based) of an answer the orchestrator receives; 0 if it does not. */
  readonly replyCode: (answer: string) => number;
  /** Reactions to an answer: (participant, command code) pairs. */
  readonly reactionsTo: (answer: SystemMessage) => TableReaction[];
}

const MAX = 256;

/**
 * One participant's decider as a finite table, filled by running the decider itself on
 * each (local state, shared state, command, world's choice) the exploration reaches,
 * the first time it is reached. The checker and the exports read this table, so they
 * execute exactly what the service runs. States are interned (code = first-seen order;
 * local 0 and shared 0 are the initial ones).
 */
export class ParticipantTable {
  readonly commands: string[] = [];
  readonly payloads: unknown[] = [];
  readonly locals: unknown[] = [];
  readonly shareds: unknown[] = [];
  /** Per command: the world's choices (the first is the normal answer). */
  readonly choices: (readonly { readonly fault?: string; readonly value: unknown }[])[] = [];
  /** Most choices of any command. */
  readonly width: number;
  readonly nextLocal: number[] = [];
  readonly nextShared: number[] = [];
  readonly replies: number[][] = [];
  readonly reactions: TableReaction[][] = [];
  /** Names of the published answers per entry (for traces and export comments). */
  readonly answers: string[][] = [];
  /** Entries computed so far, as (local, shared, command code, choice, entry). */
  readonly known: [number, number, number, number, number][] = [];
  private readonly localIds = new Map<string, number>();
  private readonly sharedIds = new Map<string, number>();
  private cache: Int32Array;
  private hooks: TableHooks | undefined;

  constructor(
    readonly participant: AnyParticipant,
    commands: readonly { name: string; payload: unknown }[],
    initialShared: unknown,
  ) {
    for (const c of commands) this.addCommand(c.name, c.payload);
    this.width = Math.max(1, ...Object.values((participant.choices ?? {}) as Record<string, readonly unknown[]>).map((c) => c.length));
    this.intern(participant.initialLocal(), this.localIds, this.locals, 'local');
    this.intern(initialShared, this.sharedIds, this.shareds, 'shared');
    this.cache = new Int32Array(0);
  }

  addCommand(name: string, payload: unknown): number {
    const k = this.commands.indexOf(name);
    if (k >= 0) return k + 1;
    this.commands.push(name);
    this.payloads.push(payload);
    this.choices.push((this.participant.choices?.[name] as { fault?: string; value: unknown }[] | undefined) ?? [{ value: undefined }]);
    return this.commands.length;
  }

  /** Freezes the command list (reactions may add commands before this) and wires the hooks. */
  seal(hooks: TableHooks): void {
    this.hooks = hooks;
    this.cache = new Int32Array(MAX * MAX * this.commands.length * this.width).fill(-2);
  }

  private intern(v: unknown, ids: Map<string, number>, list: unknown[], what: string): number {
    const key = canonicalJson(v ?? null);
    const known = ids.get(key);
    if (known !== undefined) return known;
    if (list.length >= MAX - 1) throw new ModelBoundError(`${this.participant.name} ${what} states`, MAX - 1, 'the participant has more distinct states than fit a byte');
    ids.set(key, list.length);
    list.push(v);
    return list.length - 1;
  }

  /** The entry for (local, shared, command code, choice), computing it the first time; -1 when not enabled (another choice only where it changes the outcome). */
  entry(l: number, g: number, code: number, x: number): number {
    const at = ((l * MAX + g) * this.commands.length + code - 1) * this.width + x;
    const e = this.cache[at] as number;
    if (e !== -2) return e;
    const computed = this.compute(l, g, code, x);
    this.cache[at] = computed;
    if (computed >= 0) this.known.push([l, g, code, x, computed]);
    return computed;
  }

  private compute(l: number, g: number, code: number, x: number): number {
    const hooks = this.hooks;
    if (!hooks) throw new Error(`participant table ${this.participant.name} used before seal()`);
    const choice = this.choices[code - 1]?.[x];
    if (!choice) return -1;
    let r;
    try {
      r = runParticipant(opaque(this.participant), { type: this.commands[code - 1] ?? '', payload: this.payloads[code - 1] }, { local: this.locals[l], shared: this.shareds[g] }, choice.value);
    } catch {
      // The decider refuses the command here: the service dead-letters it, nothing changes.
      r = { state: { local: this.locals[l], shared: this.shareds[g] }, answers: [] as SystemMessage[] };
    }
    const answers = r.answers as SystemMessage[];
    const nl = this.intern(r.state.local, this.localIds, this.locals, 'local');
    const ng = this.intern(r.state.shared, this.sharedIds, this.shareds, 'shared');
    const replies = answers.map((a) => hooks.replyCode(a.type)).filter((c) => c > 0);
    const reactions = answers.flatMap((a) => hooks.reactionsTo(a));
    if (x > 0) {
      const n = this.entry(l, g, code, 0);
      if (n >= 0 && this.nextLocal[n] === nl && this.nextShared[n] === ng && canonicalJson(this.replies[n]) === canonicalJson(replies) && canonicalJson(this.reactions[n]) === canonicalJson(reactions)) return -1;
    }
    this.nextLocal.push(nl);
    this.nextShared.push(ng);
    this.replies.push(replies);
    this.reactions.push(reactions);
    this.answers.push(answers.map((a) => a.type));
    return this.nextLocal.length - 1;
  }
}
