/**
 * The sleep of a polling loop (the outbox relay, a projector): wait up to `ms`, ended early
 * by `notify()` (new work was committed) or by `stop()`. A notify that comes while the loop
 * is busy is kept, so its next sleep returns at once: no commit waits for a poll.
 */
export interface Wakeup {
  /** Sleeps up to `ms`. A `wakeable: false` sleep (a backoff) ignores `notify()` but not `stop()`; the notify is kept for later. */
  sleep(ms: number, options?: { readonly wakeable?: boolean }): Promise<void>;
  notify(): void;
  /** Ends the sleep under way, and every later one returns at once. */
  stop(): void;
  readonly stopped: boolean;
}

export function createWakeup(): Wakeup {
  let stopped = false;
  let woken = false;
  let wake: (() => void) | undefined;
  let cutShort: (() => void) | undefined;
  return {
    get stopped() {
      return stopped;
    },
    sleep(ms, { wakeable = true } = {}) {
      return new Promise((resolve) => {
        if (stopped || (wakeable && woken)) {
          if (wakeable) woken = false;
          resolve();
          return;
        }
        const done = (): void => {
          clearTimeout(timer);
          wake = undefined;
          cutShort = undefined;
          if (wakeable) woken = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = wakeable ? done : undefined;
        cutShort = done;
      });
    },
    notify() {
      woken = true;
      wake?.();
    },
    stop() {
      stopped = true;
      cutShort?.();
    },
  };
}
