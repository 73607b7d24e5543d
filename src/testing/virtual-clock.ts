import type { Clock } from '../runtime/index.js';

/**
 * A clock that moves only when the test says so. An engine given this clock fires
 * every timer that became due before `advance` resolves.
 */
export class VirtualClock implements Clock {
  private listeners: (() => Promise<void>)[] = [];
  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  /** Moves time forward and waits until the engines have fired what became due. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance: ms must be ≥ 0, got ${ms}`);
    this.current += ms;
    for (const l of [...this.listeners]) await l();
  }

  onAdvance(listener: () => Promise<void>): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}
