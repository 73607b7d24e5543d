import { OrdoError } from '../machine/index.js';
import type { IncomingMessage } from '../runtime/index.js';

/** A trace step the replayer cannot carry out (unknown action, or a message the trace names is not there). */
export class TraceStepNotReplayableError extends OrdoError {
  readonly code = 'TRACE_STEP_NOT_REPLAYABLE';
  readonly retryable = false;
  constructor(
    readonly step: number,
    readonly action: string,
    readonly reason: string,
  ) {
    super(`trace step ${step} (${action}) cannot be replayed: ${reason}`);
  }
}

/** A command the engine wrote to its outbox, as it sits in a replayed queue. */
export interface QueuedCommand {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
}

/** One order's service records, named as in the checker's trace (`INV`, `PAY`, `SHIP` of src/verify). */
export interface ServiceRecords {
  inventory: 'none' | 'reserved' | 'released' | 'shipped' | 'refused';
  payment: 'none' | 'captured' | 'refunded' | 'declined';
  captures: number;
  shipping: 'none' | 'shipped' | 'failed';
}

export const newRecords = (): ServiceRecords => ({ inventory: 'none', payment: 'none', captures: 0, shipping: 'none' });

function quantityOf(cmd: QueuedCommand): number {
  const items = (cmd.data as { items?: { quantity?: unknown }[] } | null)?.items ?? [];
  return items.reduce((n, i) => n + (typeof i.quantity === 'number' ? i.quantity : 0), 0);
}

/**
 * A reply to a command. Its id is the command's id plus the answer: the same
 * command answered the same way again (a duplicate, a redelivery after a crash)
 * is the same message, so the engine's inbox sees the repeat exactly as the
 * model's queues carry it; a different answer is a different message.
 */
export function replyTo(cmd: QueuedCommand, sagaId: string, type: string): IncomingMessage {
  const payloads: Record<string, Record<string, unknown>> = {
    InventoryReserved: { reservationId: `res-${sagaId}` },
    PaymentApproved: { paymentId: `pay-${sagaId}` },
    PackageShipped: { trackingNumber: `trk-${sagaId}` },
  };
  const payload = payloads[type] ?? (/Insufficient|Refused|Failed/.test(type) ? { reason: 'replayed' } : {});
  return { id: `${cmd.id}/${type}`, key: sagaId, type, payload };
}

/**
 * The services of the order-system model (src/verify/order-system.ts), step for step:
 * the same records, the same answers, the same tombstones. They are deliberately
 * in memory and model-shaped — what is under test is the orders side (the real
 * engine); these only answer the commands the engine really sent.
 */
export class ModelServices {
  constructor(
    public available: number,
    /** Units each order holds once reserved (the release command carries no items; the model's orders all ask the same). */
    private readonly quantity: number,
  ) {}

  inventory(rec: ServiceRecords, cmd: QueuedCommand): string {
    const qty = quantityOf(cmd) || this.quantity;
    if (cmd.type === 'ReserveInventory') {
      if (rec.inventory === 'none') {
        if (this.available >= qty) {
          this.available -= qty;
          rec.inventory = 'reserved';
          return 'InventoryReserved';
        }
        rec.inventory = 'refused';
        return 'InventoryInsufficient';
      }
      return rec.inventory === 'reserved' || rec.inventory === 'shipped' ? 'InventoryReserved' : 'InventoryInsufficient';
    }
    if (rec.inventory === 'reserved') {
      this.available += this.quantity;
      rec.inventory = 'released';
      return 'ReservationReleased';
    }
    if (rec.inventory === 'none') {
      rec.inventory = 'released'; // tombstone: a late ReserveInventory must not reserve
      return 'ReservationReleased';
    }
    return rec.inventory === 'shipped' ? 'ReleaseFailed' : 'ReservationReleased';
  }

  payment(rec: ServiceRecords, cmd: QueuedCommand): string {
    if (cmd.type === 'ProcessPayment') {
      if (rec.payment === 'none') {
        rec.payment = 'captured';
        rec.captures = Math.min(3, rec.captures + 1);
        return 'PaymentApproved';
      }
      return rec.payment === 'captured' ? 'PaymentApproved' : 'PaymentRefused';
    }
    if (rec.payment === 'captured' || rec.payment === 'none') rec.payment = 'refunded';
    return 'PaymentRefunded';
  }

  shipping(rec: ServiceRecords): string {
    if (rec.shipping === 'none') {
      if (rec.inventory === 'reserved') {
        rec.inventory = 'shipped';
        rec.shipping = 'shipped';
        return 'PackageShipped';
      }
      rec.shipping = 'failed';
      return 'ShipmentFailed';
    }
    return rec.shipping === 'shipped' ? 'PackageShipped' : 'ShipmentFailed';
  }
}
