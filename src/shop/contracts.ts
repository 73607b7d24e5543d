import { z } from 'zod';
import { OrderItem } from './order-machine.js';

/**
 * The message contracts between the shop's services. Orchestration and
 * choreography are two wirings of these same messages: commands go to
 * `<service>-commands`, what a service reports goes to `<service>-events`, and the
 * order's own events go to `order-events`.
 */
const orderId = z.string().min(1);
const items = z.array(OrderItem).min(1);
const reason = z.string().min(1);
const sku = z.string().min(1).max(64);
/** Cents: zod's int() is the safe-integer range, so an amount here is exact. */
const cents = z.number().int().nonnegative();

export const commands = {
  ReserveInventory: z.object({ orderId, items }),
  ReleaseInventory: z.object({ orderId, reservationId: z.string().optional() }),
  ProcessPayment: z.object({ orderId, customerId: z.string(), amount: z.number().int().nonnegative() }),
  RefundPayment: z.object({ orderId, paymentId: z.string().optional(), amount: z.number().int().nonnegative() }),
  /** Order machine v2: screen the order before it is charged (the payment service's fraud rule). */
  CheckFraud: z.object({ orderId, customerId: z.string(), amount: cents }),
  PrepareShipment: z.object({ orderId, items }),
  ConfirmDelivery: z.object({ orderId }),
  /** The operator sets a SKU's available quantity (and name, price): sent by the gateway, applied by the inventory service. */
  SetStock: z.object({ sku, available: z.number().int().min(0).max(1_000_000_000), name: z.string().min(1).max(200).optional(), unitPrice: cents.optional() }),
} as const;

/**
 * The inventory's stock feed (topic `inventory-stock`, key = SKU): a SKU's row after every
 * change, for the read models of other services (the gateway's catalogue). `version` grows
 * with every change of the row; a reader keeps the highest it has seen.
 */
export const stockEvents = {
  StockChanged: z.object({
    sku,
    name: z.string(),
    unitPrice: cents,
    available: z.number().int().nonnegative(),
    reserved: z.number().int().nonnegative(),
    shipped: z.number().int().nonnegative(),
    version: z.number().int().positive(),
  }),
} as const;
export type StockChanged = z.infer<typeof stockEvents.StockChanged>;

/** What the services report back; the order machine's events of the same names. */
export const serviceEvents = {
  InventoryReserved: z.object({ orderId, reservationId: z.string() }),
  InventoryInsufficient: z.object({ orderId, reason }),
  ReservationReleased: z.object({ orderId }),
  ReleaseFailed: z.object({ orderId, reason }),
  FraudCleared: z.object({ orderId }),
  FraudSuspected: z.object({ orderId, reason }),
  PaymentApproved: z.object({ orderId, paymentId: z.string() }),
  PaymentRefused: z.object({ orderId, reason }),
  PaymentRefunded: z.object({ orderId }),
  RefundFailed: z.object({ orderId, reason }),
  PackageShipped: z.object({ orderId, trackingNumber: z.string(), items }),
  ShipmentFailed: z.object({ orderId, reason }),
  DeliveryConfirmed: z.object({ orderId }),
} as const;

export type CommandType = keyof typeof commands;
export type ServiceEventType = keyof typeof serviceEvents;
export type ServiceEvent = { [K in ServiceEventType]: { type: K; payload: z.infer<(typeof serviceEvents)[K]> } }[ServiceEventType];

export const SERVICES = ['inventory', 'payment', 'shipping'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const topics = {
  commands: (service: ServiceName) => `${service}-commands`,
  events: (service: ServiceName) => `${service}-events`,
  orderEvents: 'order-events',
  stock: 'inventory-stock',
} as const;
