import { describe, expect, it } from 'vitest';
import { createWakeup } from './wakeup.js';

const LONG = 3_600_000;
/** Whether the promise settled within a few turns of the event loop (no clock involved). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe('wakeup (the sleep of the relay and the projector loops)', () => {
  it('notify ends a sleep; a notify that came while awake ends the next one at once, once', async () => {
    const w = createWakeup();
    const sleeping = w.sleep(LONG);
    expect(await settled(sleeping)).toBe(false);
    w.notify();
    expect(await settled(sleeping)).toBe(true);
    w.notify();
    expect(await settled(w.sleep(LONG))).toBe(true);
    const again = w.sleep(LONG);
    expect(await settled(again)).toBe(false);
    w.stop();
    await again;
  });

  it('a backoff (not wakeable) ignores notify but keeps it for the next sleep; stop ends it', async () => {
    const w = createWakeup();
    const backoff = w.sleep(LONG, { wakeable: false });
    w.notify();
    expect(await settled(backoff)).toBe(false);
    w.stop();
    expect(await settled(backoff)).toBe(true);
    expect(w.stopped).toBe(true);
    expect(await settled(w.sleep(LONG))).toBe(true);
  });

  it('after a backoff, the notify it ignored ends the next sleep at once', async () => {
    const w = createWakeup();
    const backoff = w.sleep(1, { wakeable: false });
    w.notify();
    await backoff;
    expect(await settled(w.sleep(LONG))).toBe(true);
    w.stop();
  });

  it('clear forgets a notify kept while awake, and a notify after it is kept again', async () => {
    const w = createWakeup();
    w.notify();
    w.clear();
    const sleeping = w.sleep(LONG);
    expect(await settled(sleeping)).toBe(false);
    w.notify();
    expect(await settled(sleeping)).toBe(true);
    w.notify();
    w.clear();
    w.notify();
    expect(await settled(w.sleep(LONG))).toBe(true);
    w.stop();
  });

  it('a sleep says whether a notify ended it: true for a notify (kept or new), false for the time or stop', async () => {
    const w = createWakeup();
    expect(await w.sleep(1)).toBe(false);
    const sleeping = w.sleep(LONG);
    w.notify();
    expect(await sleeping).toBe(true);
    w.notify();
    expect(await w.sleep(LONG)).toBe(true);
    const stopped = w.sleep(LONG);
    w.stop();
    expect(await stopped).toBe(false);
  });
});
