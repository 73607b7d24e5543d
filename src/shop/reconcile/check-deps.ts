import type { Queryable } from '../../store/index.js';
import type { OrderContext } from '../order-machine.js';
import type { OrdersService } from '../orders/orders-service.js';
import type { WiringMode } from '../services/service-definitions.js';

/** The other services' own databases, read (never written) to compare views. */
export interface ServiceViews {
  readonly inventory: Queryable;
  readonly payment: Queryable;
  readonly shipping: Queryable;
}

/** What to do with an order left in INITIATED (its creation was interrupted between `startSaga` and `OrderCreated`). */
export type StuckInitiatedPolicy = 'auto' | 'continue' | 'cancel';

export interface CheckDeps {
  readonly orders: OrdersService;
  readonly views: ServiceViews;
  readonly mode: WiringMode;
  /** An order must have been in its state this long before a check looks at it (in-flight work is not a discrepancy). */
  readonly graceMs: number;
  /** How far back CANCELED orders are compared with the payment service. */
  readonly lookbackMs: number;
  /** Most orders one check handles per round. */
  readonly batch: number;
  /** The engine's clock (timer deadlines are ms on it). */
  readonly now: () => number;
  readonly stuckInitiated: StuckInitiatedPolicy;
}

export interface OrderRow {
  readonly id: string;
  readonly state: string;
  readonly snapshot: { readonly context: OrderContext; readonly seq: number };
  readonly revision: number;
  /** Whether a machine timer of the order is due in the future, or overdue by less than the grace (the poller is only late). */
  readonly timer_alive: boolean;
}

/** Orders in these states, unchanged for longer than the grace, oldest first. */
export async function ordersIn(deps: CheckDeps, states: readonly string[]): Promise<OrderRow[]> {
  const r = await deps.orders.db.query<OrderRow>(
    `SELECT i.id, i.state, i.snapshot, i.revision,
            EXISTS (SELECT 1 FROM ordo_saga_timers t WHERE t.saga_id = i.id AND t.kind = 'machine' AND t.due_at > $4) AS timer_alive
       FROM ordo_saga_instances i
      WHERE i.machine_id = $1 AND i.state = ANY($2::text[]) AND i.updated_at < now() - $3::double precision * interval '1 millisecond'
      ORDER BY i.updated_at LIMIT $5`,
    [deps.orders.machine.id, [...states], deps.graceMs, String(deps.now() - deps.graceMs), deps.batch],
  );
  return r.rows;
}

/** Rows of a service table keyed by order id, for the given orders. */
export async function byOrder<R extends { order_id: string }>(q: Queryable, sql: string, ids: readonly string[]): Promise<Map<string, R>> {
  if (ids.length === 0) return new Map();
  const r = await q.query<R>(sql, [[...ids]]);
  return new Map(r.rows.map((row) => [row.order_id, row]));
}
