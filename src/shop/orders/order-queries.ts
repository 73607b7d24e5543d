import { decodeTimeCursor, encodeTimeCursor } from '../../eventsourcing/index.js';
import type { Queryable } from '../../store/index.js';
import type { OrderSummary } from '../gateway/backend.js';
import type { OrderContext } from '../order-machine.js';

interface InstanceRow {
  id: string;
  state: string;
  snapshot: { context: OrderContext };
  created_at: Date;
  updated_at: Date;
  /** created_at at full (microsecond) precision, for the cursor. */
  created_key?: string;
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
    `SELECT id, state, snapshot, created_at, updated_at, false AS archived FROM ordo_saga_instances WHERE id = $1 AND machine_id = 'order'
     UNION ALL
     SELECT id, state, snapshot, created_at, updated_at, true AS archived FROM ordo_saga_instances_archive WHERE id = $1 AND machine_id = 'order'
     LIMIT 1`,
    [orderId],
  );
  const row = r.rows[0];
  return row ? { ...summaryOf(row), archived: row.archived } : undefined;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listOrders(q: Queryable, f: { status?: string; customerId?: string; limit: number; cursor?: string }): Promise<{ orders: OrderSummary[]; nextCursor?: string }> {
  const where = [`machine_id = 'order'`];
  const params: unknown[] = [];
  if (f.status) where.push(`state = $${params.push(f.status)}`);
  if (f.customerId) where.push(`snapshot->'context'->>'customerId' = $${params.push(f.customerId)}`);
  if (f.cursor) {
    const { at, id } = decodeTimeCursor(f.cursor);
    where.push(`(created_at, id) < ($${params.push(at)}::timestamptz, $${params.push(id)})`);
  }
  const r = await q.query<InstanceRow>(
    `SELECT id, state, snapshot, created_at, updated_at, created_at::text AS created_key FROM ordo_saga_instances WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.push(f.limit + 1)}`,
    params,
  );
  const rows = r.rows.slice(0, f.limit);
  const last = rows[rows.length - 1];
  return {
    orders: rows.map(summaryOf),
    ...(r.rows.length > f.limit && last ? { nextCursor: encodeTimeCursor(last.created_key ?? new Date(last.created_at).toISOString(), last.id) } : {}),
  };
}
