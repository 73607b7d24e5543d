import type { z } from 'zod';
import type { Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import type { OrderItem } from '../order-machine.js';

type Item = z.infer<typeof OrderItem>;

export const shippingMigrations = [
  {
    version: 1,
    name: 'shipments',
    sql: `
      CREATE TABLE IF NOT EXISTS shipments (
        order_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('failed', 'shipped', 'delivered')),
        items jsonb NOT NULL,
        tracking_number text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        shipped_at timestamptz,
        delivered_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS shipments_awaiting_delivery ON shipments (shipped_at) WHERE status = 'shipped';
    `,
  },
];

interface ShipmentRow {
  status: 'failed' | 'shipped' | 'delivered';
  tracking_number: string | null;
  reason: string | null;
  items: Item[];
}

async function shipment(tx: Queryable, orderId: string): Promise<ShipmentRow | undefined> {
  return (await tx.query<ShipmentRow>('SELECT status, tracking_number, reason, items FROM shipments WHERE order_id = $1 FOR UPDATE', [orderId])).rows[0];
}

/** Packs and hands the order to the carrier, or reports that it cannot. Idempotent per order. */
export async function prepareShipment(tx: Queryable, orderId: string, items: readonly Item[], fails: boolean): Promise<ServiceEvent[]> {
  const existing = await shipment(tx, orderId);
  if (existing) {
    if (existing.status === 'failed') return [{ type: 'ShipmentFailed', payload: { orderId, reason: existing.reason ?? 'failed' } }];
    return [{ type: 'PackageShipped', payload: { orderId, trackingNumber: existing.tracking_number ?? '', items: existing.items } }];
  }
  if (fails) {
    const reason = 'the warehouse could not prepare the package';
    await tx.query(`INSERT INTO shipments (order_id, status, items, reason) VALUES ($1, 'failed', $2, $3)`, [orderId, JSON.stringify(items), reason]);
    return [{ type: 'ShipmentFailed', payload: { orderId, reason } }];
  }
  const trackingNumber = `TRK-${orderId}`;
  await tx.query(`INSERT INTO shipments (order_id, status, items, tracking_number, shipped_at) VALUES ($1, 'shipped', $2, $3, now())`, [orderId, JSON.stringify(items), trackingNumber]);
  return [{ type: 'PackageShipped', payload: { orderId, trackingNumber, items: [...items] } }];
}

export class ShipmentNotDeliverableError extends Error {
  readonly code = 'SHIPMENT_NOT_DELIVERABLE';
  readonly retryable = false;
  constructor(
    readonly orderId: string,
    readonly status: string,
  ) {
    super(`order ${orderId} cannot be confirmed delivered: shipment is ${status}`);
  }
}

/** The carrier's delivery confirmation. Repeating it is harmless. */
export async function confirmDelivery(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  const existing = await shipment(tx, orderId);
  if (!existing || existing.status === 'failed') throw new ShipmentNotDeliverableError(orderId, existing?.status ?? 'missing');
  if (existing.status === 'shipped') await tx.query(`UPDATE shipments SET status = 'delivered', delivered_at = now() WHERE order_id = $1`, [orderId]);
  return [{ type: 'DeliveryConfirmed', payload: { orderId } }];
}

/** Orders the simulated carrier delivers now: shipped longer ago than the delay. */
export async function dueForDelivery(q: Queryable, delayMs: number, limit: number): Promise<string[]> {
  const r = await q.query<{ order_id: string }>(
    `SELECT order_id FROM shipments WHERE status = 'shipped' AND shipped_at <= now() - ($1::double precision * interval '1 millisecond') ORDER BY shipped_at LIMIT $2`,
    [delayMs, limit],
  );
  return r.rows.map((x) => x.order_id);
}
