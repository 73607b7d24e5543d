import type { z } from 'zod';
import { preparedStatement, type Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import type { OrderItem } from '../order-machine.js';
import { runParticipant } from '../../verify/index.js';
import { write } from '../staged-writes.js';
import { ShipmentNotDeliverableError, shippingDecider, type ShipmentStatus, type ShippingCommand, type ShippingLocal } from './shipping-decider.js';

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
  status: ShipmentStatus;
  tracking_number: string | null;
  reason: string | null;
  items: Item[];
}

const SHIPMENT_COLUMNS = 'status, tracking_number, reason, items';
const shipmentOf = (r: ShipmentRow): ShippingLocal => ({ status: r.status, items: r.items, ...(r.tracking_number === null ? {} : { trackingNumber: r.tracking_number }), ...(r.reason === null ? {} : { reason: r.reason }) });

async function loadShipment(tx: Queryable, orderId: string): Promise<ShippingLocal> {
  const r = (await tx.query<ShipmentRow>(preparedStatement(`SELECT ${SHIPMENT_COLUMNS} FROM shipments WHERE order_id = $1 FOR UPDATE`), [orderId])).rows[0];
  return r ? shipmentOf(r) : undefined;
}

/** Every shipment of these orders as the decider sees it (the loader's mapping, without locks): for the runtime property monitor. */
export async function readShipments(q: Queryable, orderIds: readonly string[]): Promise<Map<string, ShippingLocal>> {
  const r = await q.query<ShipmentRow & { order_id: string }>(`SELECT order_id, ${SHIPMENT_COLUMNS} FROM shipments WHERE order_id = ANY($1::text[])`, [[...orderIds]]);
  return new Map(r.rows.map((row) => [row.order_id, shipmentOf(row)]));
}

/** Runs the shipping decider in the caller's transaction; SQL only loads and stores the shipment. */
async function handle(tx: Queryable, command: ShippingCommand, fails: boolean): Promise<ServiceEvent[]> {
  const orderId = command.payload.orderId;
  const local = await loadShipment(tx, orderId);
  const { state, answers } = runParticipant(shippingDecider, command, { local, shared: null }, fails);
  const next = state.local;
  if (next && !local) {
    await write(tx, preparedStatement(`INSERT INTO shipments (order_id, status, items, tracking_number, reason, shipped_at) VALUES ($1, $2, $3, $4, $5, CASE WHEN $2 = 'shipped' THEN now() END)`), [
      orderId,
      next.status,
      JSON.stringify(next.items),
      next.trackingNumber ?? null,
      next.reason ?? null,
    ]);
  } else if (next?.status === 'delivered' && local?.status !== 'delivered') {
    await write(tx, preparedStatement(`UPDATE shipments SET status = 'delivered', delivered_at = now() WHERE order_id = $1`), [orderId]);
  }
  return answers as ServiceEvent[];
}

/** Packs and hands the order to the carrier, or reports that it cannot. Idempotent per order. */
export function prepareShipment(tx: Queryable, orderId: string, items: readonly Item[], fails: boolean): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'PrepareShipment', payload: { orderId, items } }, fails);
}

export { ShipmentNotDeliverableError };

/** The carrier's delivery confirmation. Repeating it is harmless. */
export function confirmDelivery(tx: Queryable, orderId: string): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'ConfirmDelivery', payload: { orderId } }, false);
}

/** Orders the simulated carrier delivers now: shipped longer ago than the delay. */
export async function dueForDelivery(q: Queryable, delayMs: number, limit: number): Promise<string[]> {
  const r = await q.query<{ order_id: string }>(
    preparedStatement(`SELECT order_id FROM shipments WHERE status = 'shipped' AND shipped_at <= now() - ($1::double precision * interval '1 millisecond') ORDER BY shipped_at LIMIT $2`),
    [delayMs, limit],
  );
  return r.rows.map((x) => x.order_id);
}
