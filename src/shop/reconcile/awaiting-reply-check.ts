import type { Machine } from '../../machine/index.js';
import type { Discrepancy, ReconcilerCheck } from '../../runtime/index.js';
import { byOrder, ordersIn, type CheckDeps, type ServiceViews } from './check-deps.js';
import { confirmDeliveryCommand, sendCorrection, stepCommand, type ServiceCommand } from './correction-messages.js';

/** Where a step's outcome is written in its service's own database, and which statuses mean it answered. */
interface StepEvidence {
  readonly view: keyof ServiceViews;
  /** The action took effect or was refused: the service has answered it. */
  readonly answered: (status: string) => boolean;
  /** The compensation took effect (or failed for good): the service has answered it. */
  readonly undone: (status: string) => boolean;
}

/** Each service's per-order table (its own database), keyed by order id with a status column. */
const TABLE: Readonly<Record<keyof ServiceViews, string>> = { inventory: 'reservations', payment: 'charges', shipping: 'shipments' };

const EVIDENCE: Readonly<Record<string, StepEvidence>> = {
  reserveInventory: {
    view: 'inventory',
    answered: (s) => s === 'reserved' || s === 'rejected' || s === 'shipped',
    undone: (s) => s === 'released' || s === 'rejected',
  },
  processPayment: {
    view: 'payment',
    answered: (s) => s === 'approved' || s === 'declined',
    undone: (s) => s === 'refunded' || s === 'refund-failed',
  },
  prepareShipment: {
    view: 'shipping',
    answered: () => true,
    undone: () => false,
  },
};

const SHIPPED = 'SHIPPED';

/**
 * (d) An order waiting for a service's reply. The machine's own timers already act on
 * most waits (reservation and payment timeouts compensate; compensation timeouts park the
 * saga with an alert), so this check only adds what is missing:
 *
 * - a wait with no timer in the machine (PREPARING_SHIPMENT): ask the service again;
 * - a wait whose timer row is gone or long overdue (nothing will fire it): ask again;
 * - a compensation the service's own table shows done (released, refunded) while the
 *   order still waits: ask again, so the reply comes instead of the timeout's park;
 * - SHIPPED while the shipping service has the delivery confirmed: confirm again.
 *
 * "Ask again" is the step's own command (or, in choreography, the order event the
 * service reacts to); services are idempotent by order, so they answer as before.
 */
export function awaitingReplyCheck(deps: CheckDeps): ReconcilerCheck {
  // Either version of the order machine (v2 adds the fraud check's wait).
  const machine: Machine<string, { type: string }, unknown> = deps.orders.machine;
  const waiting = machine.stateNames.flatMap((name) => {
    const s = machine.states[name];
    const step = s?.invoke ?? s?.compensate;
    if (step === undefined || EVIDENCE[step] === undefined) return [];
    return [{ state: name, step, part: s?.invoke !== undefined ? ('action' as const) : ('compensation' as const), hasTimer: Object.keys(s?.after ?? {}).length > 0 }];
  });
  return {
    name: 'awaiting-reply',
    async find(): Promise<Discrepancy[]> {
      const rows = await ordersIn(deps, [...waiting.map((w) => w.state), SHIPPED]);
      const viewOf = (state: string): keyof ServiceViews | undefined => (state === SHIPPED ? 'shipping' : EVIDENCE[waiting.find((w) => w.state === state)?.step ?? '']?.view);
      const statusIn = async (view: keyof ServiceViews) => {
        const ids = rows.filter((o) => viewOf(o.state) === view).map((o) => o.id);
        return byOrder<{ order_id: string; status: string }>(deps.views[view], `SELECT order_id, status FROM ${TABLE[view]} WHERE order_id = ANY($1::text[])`, ids);
      };
      const status = { inventory: await statusIn('inventory'), payment: await statusIn('payment'), shipping: await statusIn('shipping') };
      const found: Discrepancy[] = [];
      for (const o of rows) {
        const key = `awaiting-reply:${o.id}:${o.state}#${o.snapshot.seq}`;
        if (o.state === SHIPPED) {
          if (status.shipping.get(o.id)?.status !== 'delivered') continue;
          found.push(correction(key, o.id, { state: o.state, shipment: 'delivered' }, confirmDeliveryCommand(o.id)));
          continue;
        }
        const w = waiting.find((x) => x.state === o.state);
        const evidence = w && EVIDENCE[w.step];
        if (!w || !evidence) continue;
        const seen = status[evidence.view].get(o.id)?.status ?? null;
        const timer = !w.hasTimer ? 'none in the machine' : o.timer_alive ? 'pending' : 'missing or long overdue';
        const done = seen !== null && (w.part === 'action' ? evidence.answered(seen) : evidence.undone(seen));
        const ask = w.part === 'action' ? !w.hasTimer || !o.timer_alive : done || !o.timer_alive;
        if (!ask) continue;
        const command = stepCommand(machine, deps.mode, w.step, w.part, o.snapshot.context);
        found.push(correction(key, o.id, { state: o.state, waitingFor: `${w.step} (${w.part})`, [evidence.view]: seen, serviceAnswered: done, timer }, command));
      }
      return found;
    },
  };

  function correction(key: string, orderId: string, found: Record<string, unknown>, command: ServiceCommand): Discrepancy {
    return { key, subject: orderId, found, action: `ask again: ${command.type} on ${command.topic}`, apply: ({ roundId }) => sendCorrection(deps.orders, orderId, command, roundId) };
  }
}
