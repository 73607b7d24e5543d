import type { Logger } from '../../observe/index.js';
import type { HostedService } from '../service-host.js';
import { confirmDelivery, dueForDelivery } from './shipping-service.js';

/**
 * The simulated carrier: confirms delivery of shipped packages by itself after a
 * delay, so orders reach DELIVERED without a person (DESIGN.md §3).
 */
export function startCarrier(shipping: HostedService, delayMs: number, log: Logger, pollMs = 250): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    const due = await dueForDelivery(shipping.db, delayMs, 200);
    for (const orderId of due) {
      if (stopped) return;
      await shipping.db.transaction(async (tx) => shipping.emit(tx, orderId, await confirmDelivery(tx, orderId)));
    }
    if (due.length > 0) shipping.notify();
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = tick()
      .catch((err: unknown) => log.warn({ err }, 'carrier: delivery confirmation failed; will retry'))
      .finally(() => {
        busy = false;
      });
  }, pollMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
