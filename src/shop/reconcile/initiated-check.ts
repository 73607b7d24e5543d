import type { Discrepancy, IncomingMessage, ReconcilerCheck, WorkResult } from '../../runtime/index.js';
import type { OrdersService } from '../orders/orders-service.js';
import { ordersIn, type CheckDeps } from './check-deps.js';

export const INTERRUPTED_CREATION_REASON = 'order creation was interrupted before it was confirmed to the customer';

async function deliverOne(orders: OrdersService, message: IncomingMessage): Promise<WorkResult> {
  const [r] = await orders.engine.deliver([message], { park: false });
  orders.notify();
  if (!r) throw new Error(`no result delivering ${message.type} to ${message.key}`);
  if (r.status === 'rejected') throw r.error;
  if (r.status === 'dead-lettered') throw new Error(`${message.type} was dead-lettered: ${r.code} ${r.reason}`);
  return r;
}

/**
 * (a) The gateway creates an order in two engine calls, `startSaga` then `OrderCreated`; a
 * crash between them leaves it in INITIATED, where no timer runs. With an idempotency key
 * the customer can retry and get this very order, so it is continued (the same
 * `OrderCreated` id the gateway uses, so a concurrent retry changes nothing); without one
 * the customer never learned of it and may have placed another, so it is cancelled.
 */
export function stuckInitiatedCheck(deps: CheckDeps): ReconcilerCheck {
  const { orders } = deps;
  return {
    name: 'stuck-initiated',
    async find(): Promise<Discrepancy[]> {
      const stuck = await ordersIn(deps, [orders.machine.initial]);
      if (stuck.length === 0) return [];
      const keyed = await orders.db.query<{ order_id: string }>(`SELECT order_id FROM order_idempotency_keys WHERE order_id = ANY($1::text[])`, [stuck.map((o) => o.id)]);
      const hasKey = new Set(keyed.rows.map((r) => r.order_id));
      return stuck.map((o): Discrepancy => {
        const proceed = deps.stuckInitiated === 'continue' || (deps.stuckInitiated === 'auto' && hasKey.has(o.id));
        return {
          key: `stuck-initiated:${o.id}`,
          subject: o.id,
          found: { state: o.state, idempotencyKey: hasKey.has(o.id) },
          action: proceed ? 'continue: deliver OrderCreated' : 'cancel: deliver CancelRequested',
          apply: async () => {
            const r = proceed
              ? await deliverOne(orders, { id: `${o.id}:created`, key: o.id, type: 'OrderCreated', payload: {} })
              : await deliverOne(orders, { id: `${o.id}:reconcile-cancel`, key: o.id, type: 'CancelRequested', payload: { reason: INTERRUPTED_CREATION_REASON } });
            return { status: r.status, ...('state' in r ? { state: r.state } : {}) };
          },
        };
      });
    },
  };
}
