/** What a decider emits and a stream stores: a named fact with its data. */
export interface DomainEvent<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * An aggregate as two pure functions and a start value (Emmett/Chassaing style).
 * `decide` throws to refuse a command; `evolve` must ignore event types it does not know,
 * because a stream may carry other messages (the outbox shares the log).
 */
export interface Decider<State, Command, Event> {
  readonly decide: (command: Command, state: State) => readonly Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
}

/** The state after `events`, from `from` (a snapshot) or the initial state. */
export function foldEvents<S, E>(decider: Pick<Decider<S, never, E>, 'evolve' | 'initialState'>, events: Iterable<E>, from?: S): S {
  let state = from === undefined ? decider.initialState() : from;
  for (const e of events) state = decider.evolve(state, e);
  return state;
}
