import { preparedStatement, type Queryable } from '../../store/index.js';
import type { OrderSummary } from '../gateway/backend.js';
import type { OrderContext } from '../order-machine.js';

interface InstanceRow {
  id: string;
  state: string;
  snapshot: { context: OrderContext };
  created_at: Date;
  updated_at: Date;
}

export function summaryOf(r: InstanceRow): OrderSummary {
  const c = r.snapshot.context;
  return {
    orderId: r.id,
    customerId: c.customerId,
    status: r.state,
    items: c.items,
    total: c.total,
    ...(c.failureReason ? { failureReason: c.failureReason } : {}),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** The order, live or (after retention) archived; `archived` says which. */
export async function loadOrder(q: Queryable, orderId: string): Promise<(OrderSummary & { archived: boolean }) | undefined> {
  const r = await q.query<InstanceRow & { archived: boolean }>(
    preparedStatement(`SELECT id, state, snapshot, created_at, updated_at, false AS archived FROM ordo_saga_instances WHERE id = $1 AND machine_id = 'order'
     UNION ALL
     SELECT id, state, snapshot, created_at, updated_at, true AS archived FROM ordo_saga_instances_archive WHERE id = $1 AND machine_id = 'order'
     LIMIT 1`),
    [orderId],
  );
  const row = r.rows[0];
  return row ? { ...summaryOf(row), archived: row.archived } : undefined;
}
