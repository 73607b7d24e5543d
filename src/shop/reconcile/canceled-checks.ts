import type { Discrepancy, ReconcilerCheck } from '../../runtime/index.js';
import type { OrderContext } from '../order-machine.js';
import { byOrder, type CheckDeps } from './check-deps.js';
import { sendCorrection, stepCommand } from './correction-messages.js';

const CANCELED = 'CANCELED';

interface CanceledOrder {
  readonly id: string;
  readonly snapshot: { readonly context: OrderContext };
}

async function canceledAmong(deps: CheckDeps, ids: readonly string[]): Promise<CanceledOrder[]> {
  if (ids.length === 0) return [];
  const r = await deps.orders.db.query<CanceledOrder>(`SELECT id, snapshot FROM ordo_saga_instances WHERE machine_id = $1 AND state = $2 AND id = ANY($3::text[]) ORDER BY id`, [
    deps.orders.machine.id,
    CANCELED,
    [...ids],
  ]);
  return r.rows;
}

/**
 * (b) A CANCELED order whose stock the inventory still holds. Read from the inventory's
 * side: its `reserved` rows are the orders in flight, a small set, so no lookback is needed.
 * Corrected with the step's own compensation (ReleaseInventory / ReservationReleaseRequested).
 */
export function canceledHoldsReservationCheck(deps: CheckDeps): ReconcilerCheck {
  return {
    name: 'canceled-holds-reservation',
    async find(): Promise<Discrepancy[]> {
      const held = await deps.views.inventory.query<{ order_id: string; items: unknown }>(
        `SELECT order_id, items FROM reservations WHERE status = 'reserved' AND updated_at < now() - $1::double precision * interval '1 millisecond' ORDER BY updated_at LIMIT $2`,
        [deps.graceMs, deps.batch],
      );
      const items = new Map(held.rows.map((r) => [r.order_id, r.items]));
      const canceled = await canceledAmong(deps, [...items.keys()]);
      return canceled.map((o) => ({
        key: `canceled-holds-reservation:${o.id}`,
        subject: o.id,
        found: { order: CANCELED, reservation: 'reserved', items: items.get(o.id) },
        action: 'release the reservation',
        apply: ({ roundId }) => sendCorrection(deps.orders, o.id, stepCommand(deps.orders.machine, deps.mode, 'reserveInventory', 'compensation', o.snapshot.context), roundId),
      }));
    },
  };
}

/**
 * (c) A CANCELED order whose payment the payment service holds as captured (or possibly
 * captured: the provider never answered) and not refunded. Read from the orders' side,
 * CANCELED orders of the lookback window, since approved charges include every delivered
 * order. Corrected with the step's compensation (RefundPayment / RefundRequested), which
 * the provider treats as a void when nothing was captured.
 */
export function canceledChargedCheck(deps: CheckDeps): ReconcilerCheck {
  return {
    name: 'canceled-charged-without-refund',
    async find(): Promise<Discrepancy[]> {
      const found: Discrepancy[] = [];
      let after = '';
      // Pages through the window, so a long one is covered in full every round.
      for (;;) {
        const page = await deps.orders.db.query<CanceledOrder>(
          `SELECT id, snapshot FROM ordo_saga_instances
            WHERE machine_id = $1 AND state = $2 AND id > $3
              AND updated_at < now() - $4::double precision * interval '1 millisecond'
              AND updated_at > now() - $5::double precision * interval '1 millisecond'
            ORDER BY id LIMIT $6`,
          [deps.orders.machine.id, CANCELED, after, deps.graceMs, deps.lookbackMs, deps.batch],
        );
        const charges = await byOrder<{ order_id: string; status: string; payment_id: string | null; amount: number }>(
          deps.views.payment,
          `SELECT order_id, status, payment_id, amount FROM charges WHERE order_id = ANY($1::text[]) AND status IN ('approved', 'no-answer')`,
          page.rows.map((o) => o.id),
        );
        for (const o of page.rows) {
          const charge = charges.get(o.id);
          if (!charge) continue;
          const context: OrderContext = { ...o.snapshot.context, ...(o.snapshot.context.paymentId || !charge.payment_id ? {} : { paymentId: charge.payment_id }) };
          found.push({
            key: `canceled-charged-without-refund:${o.id}`,
            subject: o.id,
            found: { order: CANCELED, charge: charge.status, paymentId: charge.payment_id, amount: Number(charge.amount) },
            action: 'refund the payment',
            apply: ({ roundId }) => sendCorrection(deps.orders, o.id, stepCommand(deps.orders.machine, deps.mode, 'processPayment', 'compensation', context), roundId),
          });
          if (found.length >= deps.batch) return found;
        }
        const last = page.rows[page.rows.length - 1];
        if (!last || page.rows.length < deps.batch) return found;
        after = last.id;
      }
    },
  };
}
