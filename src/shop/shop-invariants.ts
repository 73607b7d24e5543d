import type { Db } from '../store/index.js';

export interface ShopDbs {
  readonly orders: Db;
  readonly inventory: Db;
  readonly payment: Db;
  readonly shipping: Db;
}

export interface InvariantReport {
  readonly orders: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Each broken rule with the offending ids; empty when everything holds. */
  readonly violations: readonly string[];
}

const FINAL = new Set(['DELIVERED', 'CANCELED']);

/**
 * The shop owner's invariants, checked across the four databases when the system
 * is quiet (DESIGN.md §1): stock is conserved, nothing is charged for a cancelled
 * order without a refund, nothing ships unpaid, at most one capture per order,
 * every reservation of a cancelled order is released.
 */
export async function checkShopInvariants(dbs: ShopDbs, initialStock: ReadonlyMap<string, number>): Promise<InvariantReport> {
  const v: string[] = [];
  const orders = (await dbs.orders.query<{ id: string; state: string }>(`SELECT id, state FROM ordo_saga_instances WHERE machine_id = 'order'`)).rows;
  const state = new Map(orders.map((o) => [o.id, o.state]));
  const byStatus: Record<string, number> = {};
  for (const o of orders) byStatus[o.state] = (byStatus[o.state] ?? 0) + 1;
  const unfinished = orders.filter((o) => !FINAL.has(o.state));
  if (unfinished.length) v.push(`orders not in DELIVERED/CANCELED: ${unfinished.slice(0, 5).map((o) => `${o.id}=${o.state}`).join(', ')}${unfinished.length > 5 ? ` (+${unfinished.length - 5})` : ''}`);

  const stock = (await dbs.inventory.query<{ sku: string; initial: number; available: number; reserved: number; shipped: number }>('SELECT sku, initial, available, reserved, shipped FROM stock')).rows;
  for (const s of stock) {
    const initial = initialStock.get(s.sku) ?? s.initial;
    if (s.available + s.reserved + s.shipped !== initial) v.push(`stock not conserved for ${s.sku}: ${s.available} + ${s.reserved} + ${s.shipped} ≠ ${initial}`);
    if (s.reserved !== 0) v.push(`stock still reserved at quiescence for ${s.sku}: ${s.reserved}`);
  }

  const ledger = (await dbs.payment.query<{ idempotency_key: string; status: string; captures: number }>('SELECT idempotency_key, status, captures FROM provider_ledger')).rows;
  for (const l of ledger) {
    if (l.captures > 1) v.push(`order ${l.idempotency_key} captured ${l.captures} times`);
    const s = state.get(l.idempotency_key);
    if (l.status === 'captured' && s !== 'DELIVERED') v.push(`order ${l.idempotency_key} is ${s ?? 'unknown'} but its payment is captured and not refunded`);
  }
  const captured = new Set(ledger.filter((l) => l.captures >= 1).map((l) => l.idempotency_key));

  const shipments = (await dbs.shipping.query<{ order_id: string; status: string }>(`SELECT order_id, status FROM shipments WHERE status IN ('shipped', 'delivered')`)).rows;
  for (const s of shipments) if (!captured.has(s.order_id)) v.push(`order ${s.order_id} shipped without an approved payment`);
  for (const s of shipments) if (state.get(s.order_id) === 'CANCELED') v.push(`order ${s.order_id} shipped but CANCELED`);

  const reservations = (await dbs.inventory.query<{ order_id: string; status: string }>('SELECT order_id, status FROM reservations')).rows;
  for (const r of reservations) {
    const s = state.get(r.order_id);
    if (s === 'CANCELED' && r.status !== 'released' && r.status !== 'rejected') v.push(`reservation of cancelled order ${r.order_id} is ${r.status}`);
    if (s === 'DELIVERED' && r.status !== 'shipped') v.push(`reservation of delivered order ${r.order_id} is ${r.status}`);
  }
  return { orders: orders.length, byStatus, violations: v };
}
