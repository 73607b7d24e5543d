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

export const commands = {
  ReserveInventory: z.object({ orderId, items }),
  ReleaseInventory: z.object({ orderId, reservationId: z.string().optional() }),
  ProcessPayment: z.object({ orderId, customerId: z.string(), amount: z.number().int().nonnegative() }),
  RefundPayment: z.object({ orderId, paymentId: z.string().optional(), amount: z.number().int().nonnegative() }),
  PrepareShipment: z.object({ orderId, items }),
  ConfirmDelivery: z.object({ orderId }),
} as const;

/** What the services report back; the order machine's events of the same names. */
export const serviceEvents = {
  InventoryReserved: z.object({ orderId, reservationId: z.string() }),
  InventoryInsufficient: z.object({ orderId, reason }),
  ReservationReleased: z.object({ orderId }),
  ReleaseFailed: z.object({ orderId, reason }),
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
} as const;
