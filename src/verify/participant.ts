/** A message a participant handles or emits: a type and its data. */
export interface SystemMessage {
  readonly type: string;
  readonly payload: unknown;
}

/**
 * A participant's state for one saga key (one order, one trip…) beside the state it
 * shares with every other key (stock, seats…). The checker stores `local` per key and
 * `shared` once; a service loads both from its tables, runs the decider, and stores them.
 */
export interface ParticipantState<L, G> {
  readonly local: L;
  readonly shared: G;
}

/**
 * One of the world's choices when a participant handles a command: an outside
 * provider refuses, never answers, a warehouse cannot deliver. `fault` names the
 * budget the checker spends to take it (the normal answer has none).
 */
export interface WorldChoice<X> {
  readonly fault?: string;
  readonly value: X;
  readonly description?: string;
}

/**
 * A participant as a pure decider. `decide` answers a command from the state and the
 * world's choice (`X`: what an outside provider said); `evolve` folds an event into
 * the state. Events listed in `internal` only record a change; every other event is an
 * answer the participant publishes. `evolve` must ignore the answers (replaying an old
 * answer to a duplicate changes nothing).
 */
export interface Participant<L, G, X = undefined, C extends SystemMessage = SystemMessage, E extends SystemMessage = SystemMessage> {
  readonly name: string;
  readonly initialLocal: () => L;
  readonly decide: (command: C, state: ParticipantState<L, G>, choice: X) => readonly E[];
  readonly evolve: (state: ParticipantState<L, G>, event: E) => ParticipantState<L, G>;
  /** Event types that change the state and are never published. */
  readonly internal: readonly string[];
  /** The world's choices per command type; the first is the normal one. A command not listed gets `undefined`. */
  readonly choices?: Readonly<Record<string, readonly WorldChoice<X>[]>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyParticipant = Participant<any, any, any, any, any>;
/** A participant seen from generic code: states, choices and messages as unknowns. */
export type OpaqueParticipant = Participant<unknown, unknown, unknown>;
export const opaque = (p: AnyParticipant): OpaqueParticipant => p as OpaqueParticipant;

/** Runs a command through a participant: the events it decides, the state they lead to, and the answers to publish. */
export function runParticipant<L, G, X, C extends SystemMessage, E extends SystemMessage>(
  p: Participant<L, G, X, C, E>,
  command: C,
  state: ParticipantState<L, G>,
  choice: X,
): { readonly events: readonly E[]; readonly state: ParticipantState<L, G>; readonly answers: readonly E[] } {
  const events = p.decide(command, state, choice);
  let next = state;
  for (const e of events) next = p.evolve(next, e);
  return { events, state: next, answers: events.filter((e) => !p.internal.includes(e.type)) };
}
