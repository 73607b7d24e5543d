import { outsideAnyTrace, type Logger } from '../../observe/index.js';
import type { HostedService } from '../service-host.js';
import { confirmDelivery, dueForDelivery } from './shipping-service.js';

/**
 * The simulated carrier: confirms delivery of shipped packages by itself after a
 * delay, so orders reach DELIVERED without a person (DESIGN.md §3).
 *
 * It looks when a package can be due: `delayMs` after the shipping service commits a
 * report (a shipment), and every `pollMs` besides (packages shipped before a restart,
 * or by another process). Looking is one query; a look already under way is followed by
 * one more, so a shipment committed during a look is never left for the next poll.
 */
export function startCarrier(shipping: HostedService, delayMs: number, log: Logger, pollMs = 250): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let again = false;
  const tick = async () => {
    const due = await dueForDelivery(shipping.db, delayMs, 200);
    if (stopped) return;
    // Together, in the shipping service's group commit: one commit for the lot, not one after another.
    const confirmed = await Promise.allSettled(due.map((orderId) => shipping.batched(async (tx) => shipping.emit(tx, orderId, await confirmDelivery(tx, orderId)))));
    if (due.length > 0) shipping.notify();
    const failed = confirmed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) throw failed.reason;
  };
  const look = (): void => {
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    // A look is started by a commit inside one order's span, but confirms every due order: each
    // confirmation continues its own order's trace (the newest in its stream), not that one's.
    running = outsideAnyTrace(tick)
      .catch((err: unknown) => log.warn({ err }, 'carrier: delivery confirmation failed; will retry'))
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          look();
        }
      });
  };
  const pending = new Set<NodeJS.Timeout>();
  const lookLater = (ms: number): void => {
    const t = setTimeout(() => {
      pending.delete(t);
      look();
    }, ms);
    pending.add(t);
  };
  const timer = setInterval(look, pollMs);
  const unsubscribe = shipping.onCommitted(() => (delayMs <= 0 ? look() : lookLater(delayMs)));
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      for (const t of pending) clearTimeout(t);
      await running;
    },
  };
}
