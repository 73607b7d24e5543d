/**
 * The sleep of a polling loop (the outbox relay, a projector): wait up to `ms`, ended early
 * by `notify()` (new work was committed) or by `stop()`. A notify that comes while the loop
 * is busy is kept, so its next sleep returns at once: no commit waits for a poll.
 */
export interface Wakeup {
  /**
   * Sleeps up to `ms`; resolves true when a notify ended it (or one was kept), false when the
   * time ran out or `stop()` ended it. A `wakeable: false` sleep (a backoff) ignores `notify()`
   * but not `stop()`; the notify is kept for later.
   */
  sleep(ms: number, options?: { readonly wakeable?: boolean }): Promise<boolean>;
  notify(): void;
  /**
   * Forgets a notify kept while awake: call it just before looking for work, which sees
   * everything committed before the notify (the commit happened before it was sent), so
   * the next sleep need not end at once for it. A notify after this call is kept as usual.
   */
  clear(): void;
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
          const notified = !stopped;
          if (wakeable) woken = false;
          resolve(notified);
          return;
        }
        const done = (notified: boolean): void => {
          clearTimeout(timer);
          wake = undefined;
          cutShort = undefined;
          if (wakeable) woken = false;
          resolve(notified);
        };
        const timer = setTimeout(() => done(false), ms);
        wake = wakeable ? () => done(true) : undefined;
        cutShort = () => done(false);
      });
    },
    notify() {
      woken = true;
      wake?.();
    },
    clear() {
      woken = false;
    },
    stop() {
      stopped = true;
      cutShort?.();
    },
  };
}
