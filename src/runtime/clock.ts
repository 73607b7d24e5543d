/** Where the engine reads time (ms since the epoch). Tests inject a virtual clock. */
export interface Clock {
  now(): number;
  /** Virtual clocks call the listener after time moves, so due timers fire at once. */
  onAdvance?(listener: () => Promise<void>): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };
