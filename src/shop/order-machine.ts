import { z } from 'zod';
import { setup, type Snapshot } from '../machine/index.js';

/**
 * The seed's order process (DESIGN.md §1) as data. Every transition of the seed's
 * table exists here under the seed's state names; the extensions a real shop needs
 * are listed in ORDER_EXTENSIONS below and in the README:
 *
 * - timeouts: the inventory or the payment provider never answers (durable timers);
 * - a customer cancelling before the shipment is being prepared;
 * - a shipment that cannot be prepared after payment → refund, then release;
 * - a compensation that itself fails → COMPENSATION_FAILED (parked, alert, operator retry).
 *
 * Saga steps declare their action and compensation; compensation runs in reverse
 * order of the started steps (REFUNDING_PAYMENT before REVERTING_RESERVATION).
 */

export const OrderItem = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  /** Price of one unit in cents. */
  unitPrice: z.number().int().nonnegative(),
});

export const OrderContext = z.object({
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  items: z.array(OrderItem).min(1),
  /** Cents. */
  total: z.number().int().nonnegative(),
  reservationId: z.string().optional(),
  paymentId: z.string().optional(),
  trackingNumber: z.string().optional(),
  failureReason: z.string().optional(),
});
export type OrderContext = z.infer<typeof OrderContext>;

const reason = z.object({ reason: z.string().default('unspecified') });
const orderRef = z.object({ orderId: z.string() });

export const orderEvents = {
  OrderCreated: z.object({}),
  InventoryReserved: z.object({ reservationId: z.string() }),
  InventoryInsufficient: reason,
  PaymentApproved: z.object({ paymentId: z.string() }),
  PaymentRefused: reason,
  PackageShipped: z.object({ trackingNumber: z.string() }),
  ShipmentFailed: reason,
  DeliveryConfirmed: z.object({}),
  CancelRequested: reason,
  PaymentRefunded: z.object({}),
  RefundFailed: reason,
  ReservationReleased: z.object({}),
  ReleaseFailed: reason,
  CompensationRetried: z.object({}),
};

const items = z.array(OrderItem);
export const orderMessages = {
  // commands (orchestration)
  ReserveInventory: orderRef.extend({ items }),
  ReleaseInventory: orderRef.extend({ reservationId: z.string().optional() }),
  ProcessPayment: orderRef.extend({ customerId: z.string(), amount: z.number().int() }),
  RefundPayment: orderRef.extend({ paymentId: z.string().optional(), amount: z.number().int() }),
  PrepareShipment: orderRef.extend({ items }),
  // events the order publishes (choreography; also the order's public feed)
  OrderCreated: orderRef.extend({ customerId: z.string(), items, total: z.number().int() }),
  PaymentRequested: orderRef.extend({ customerId: z.string(), amount: z.number().int() }),
  ShipmentRequested: orderRef.extend({ items }),
  ReservationReleaseRequested: orderRef.extend({ reservationId: z.string().optional() }),
  RefundRequested: orderRef.extend({ paymentId: z.string().optional(), amount: z.number().int() }),
  OrderCanceled: orderRef.extend({ reason: z.string() }),
  OrderDelivered: orderRef,
  CompensationFailed: orderRef.extend({ reason: z.string() }),
};

type AnyOrderEvent = { readonly type: string };
/** Keeps the first failure reason: later ones are consequences of it. */
const failure = (why: (ev: AnyOrderEvent) => string) => (ctx: OrderContext, ev: AnyOrderEvent): OrderContext =>
  ctx.failureReason ? ctx : { ...ctx, failureReason: why(ev) };
const field = (ev: AnyOrderEvent, key: string): string => {
  const v = (ev as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : 'unspecified';
};

/** The order's vocabulary beside its events and messages: v2 (order-machine-v2.ts) extends it. */
export const orderVocabulary = {
  context: OrderContext,
  guards: {
    // Compensation runs newest step first, so a pending refund always comes before a release.
    refundPending: (_ctx: OrderContext, _ev: AnyOrderEvent, snap: Snapshot<string, OrderContext>) => snap.steps.some((s) => s.name === 'processPayment'),
    releasePending: (_ctx: OrderContext, _ev: AnyOrderEvent, snap: Snapshot<string, OrderContext>) => snap.steps.some((s) => s.name === 'reserveInventory'),
  },
  assign: {
    recordReservation: (ctx: OrderContext, ev: AnyOrderEvent): OrderContext => (ev.type === 'InventoryReserved' ? { ...ctx, reservationId: field(ev, 'reservationId') } : ctx),
    recordPayment: (ctx: OrderContext, ev: AnyOrderEvent): OrderContext => (ev.type === 'PaymentApproved' ? { ...ctx, paymentId: field(ev, 'paymentId') } : ctx),
    recordTracking: (ctx: OrderContext, ev: AnyOrderEvent): OrderContext => (ev.type === 'PackageShipped' ? { ...ctx, trackingNumber: field(ev, 'trackingNumber') } : ctx),
    recordFailure: failure((ev) => `${ev.type}: ${field(ev, 'reason')}`),
    recordTimeout: failure((ev) => `timed out (${field(ev, 'timer')})`),
    recordCancel: failure((ev) => `canceled: ${field(ev, 'reason')}`),
  },
  delays: {
    reservationTimeout: '30s',
    paymentTimeout: '60s',
    compensationTimeout: '5m',
  },
} as const;

const order = setup({ ...orderVocabulary, events: orderEvents, messages: orderMessages });
const { createMachine, send, publish } = order;

/** Version 1 as written (v2 reuses it and changes what differs). */
export const orderMachineV1Config = {
  id: 'order',
  version: 1,
  description: "The seed's e-commerce order saga, with timeouts, cancellation and failed compensations.",
  initial: 'INITIATED',
  steps: {
    reserveInventory: {
      action: send('inventory', 'ReserveInventory', (c) => ({ orderId: c.orderId, items: c.items })),
      compensation: send('inventory', 'ReleaseInventory', (c) => ({ orderId: c.orderId, reservationId: c.reservationId })),
    },
    processPayment: {
      action: send('payment', 'ProcessPayment', (c) => ({ orderId: c.orderId, customerId: c.customerId, amount: c.total })),
      compensation: send('payment', 'RefundPayment', (c) => ({ orderId: c.orderId, paymentId: c.paymentId, amount: c.total })),
    },
    prepareShipment: {
      action: send('shipping', 'PrepareShipment', (c) => ({ orderId: c.orderId, items: c.items })),
    },
  },
  states: {
    INITIATED: {
      description: 'The order exists; nothing has been asked of any service yet.',
      on: {
        OrderCreated: {
          target: 'INVENTORY_RESERVING',
          effects: [publish('OrderCreated', (c) => ({ orderId: c.orderId, customerId: c.customerId, items: c.items, total: c.total }))],
        },
        CancelRequested: { target: 'CANCELED', assign: 'recordCancel' },
      },
    },
    INVENTORY_RESERVING: {
      description: 'Waiting for the inventory service to reserve every item.',
      invoke: 'reserveInventory',
      on: {
        InventoryReserved: { target: 'INVENTORY_RESERVED', completes: 'reserveInventory', assign: 'recordReservation' },
        InventoryInsufficient: { target: 'CANCELED', fails: 'reserveInventory', assign: 'recordFailure' },
        CancelRequested: { target: 'REVERTING_RESERVATION', assign: 'recordCancel' },
      },
      after: { reservationTimeout: { target: 'REVERTING_RESERVATION', assign: 'recordTimeout' } },
    },
    INVENTORY_RESERVED: {
      description: 'Stock is held for the order; payment is requested at once.',
      always: 'PAYMENT_PROCESSING',
    },
    PAYMENT_PROCESSING: {
      description: 'Waiting for the payment provider to authorise and capture the total.',
      invoke: 'processPayment',
      entry: [publish('PaymentRequested', (c) => ({ orderId: c.orderId, customerId: c.customerId, amount: c.total }))],
      on: {
        PaymentApproved: { target: 'PAYMENT_APPROVED', completes: 'processPayment', assign: 'recordPayment' },
        PaymentRefused: { target: 'REVERTING_RESERVATION', fails: 'processPayment', assign: 'recordFailure' },
        CancelRequested: { target: 'REFUNDING_PAYMENT', assign: 'recordCancel' },
      },
      after: { paymentTimeout: { target: 'REFUNDING_PAYMENT', assign: 'recordTimeout' } },
      // Late duplicates of answers already taken (a redelivered command answered again) change nothing.
      ignore: ['InventoryReserved'],
    },
    PAYMENT_APPROVED: {
      description: 'The payment is captured; shipment is requested at once.',
      always: 'PREPARING_SHIPMENT',
    },
    PREPARING_SHIPMENT: {
      description: 'The shipping service is packing the order. Too late for the customer to cancel.',
      invoke: 'prepareShipment',
      entry: [publish('ShipmentRequested', (c) => ({ orderId: c.orderId, items: c.items }))],
      on: {
        PackageShipped: { target: 'SHIPPED', completes: 'prepareShipment', assign: 'recordTracking' },
        ShipmentFailed: { target: 'REFUNDING_PAYMENT', fails: 'prepareShipment', assign: 'recordFailure' },
      },
      ignore: ['InventoryReserved', 'PaymentApproved'],
    },
    SHIPPED: {
      description: 'Handed to the carrier; waiting for its delivery confirmation.',
      on: { DeliveryConfirmed: 'DELIVERED' },
      ignore: ['InventoryReserved', 'PaymentApproved', 'PackageShipped'],
    },
    DELIVERED: {
      type: 'final',
      description: 'The carrier confirmed delivery.',
      entry: [publish('OrderDelivered', (c) => ({ orderId: c.orderId }))],
    },
    REFUNDING_PAYMENT: {
      description: 'Added by ordo: undoing a captured (or possibly captured) payment before releasing stock.',
      tags: ['compensation'],
      compensate: 'processPayment',
      entry: [publish('RefundRequested', (c) => ({ orderId: c.orderId, paymentId: c.paymentId, amount: c.total }))],
      on: {
        PaymentRefunded: { target: 'REVERTING_RESERVATION', compensated: 'processPayment' },
        RefundFailed: { target: 'COMPENSATION_FAILED', assign: 'recordFailure' },
      },
      after: { compensationTimeout: { target: 'COMPENSATION_FAILED', assign: 'recordTimeout' } },
      ignore: ['InventoryReserved', 'PaymentApproved', 'PaymentRefused', 'ShipmentFailed', 'CancelRequested'],
    },
    REVERTING_RESERVATION: {
      description: 'Releasing the reserved stock (the seed’s compensation).',
      tags: ['compensation'],
      compensate: 'reserveInventory',
      entry: [publish('ReservationReleaseRequested', (c) => ({ orderId: c.orderId, reservationId: c.reservationId }))],
      on: {
        ReservationReleased: { target: 'CANCELED', compensated: 'reserveInventory' },
        ReleaseFailed: { target: 'COMPENSATION_FAILED', assign: 'recordFailure' },
      },
      after: { compensationTimeout: { target: 'COMPENSATION_FAILED', assign: 'recordTimeout' } },
      ignore: ['InventoryReserved', 'InventoryInsufficient', 'PaymentApproved', 'PaymentRefused', 'PaymentRefunded', 'RefundFailed', 'ShipmentFailed', 'CancelRequested'],
    },
    COMPENSATION_FAILED: {
      description: 'Added by ordo: a compensation kept failing. Parked with an alert until an operator retries it.',
      tags: ['failure', 'alert'],
      entry: [publish('CompensationFailed', (c) => ({ orderId: c.orderId, reason: c.failureReason ?? 'unknown' }))],
      on: {
        CompensationRetried: [
          { target: 'REFUNDING_PAYMENT', guard: 'refundPending' },
          { target: 'REVERTING_RESERVATION', guard: 'releasePending' },
          { target: 'CANCELED' },
        ],
      },
      ignore: ['PaymentRefunded', 'ReservationReleased', 'RefundFailed', 'ReleaseFailed', 'CancelRequested'],
    },
    CANCELED: {
      type: 'final',
      description: 'Nothing is held or charged any more.',
      entry: [publish('OrderCanceled', (c) => ({ orderId: c.orderId, reason: c.failureReason ?? 'unspecified' }))],
      ignore: ['InventoryReserved', 'InventoryInsufficient', 'PaymentRefused', 'ReservationReleased', 'CancelRequested'],
    },
  },
} as const;

export const orderMachine = createMachine(orderMachineV1Config);

export type OrderMachine = typeof orderMachine;
export type OrderState = (typeof orderMachine.stateNames)[number];

/** The seed's table of valid transitions (DESIGN.md §1), verbatim. */
export const SEED_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  INITIATED: ['INVENTORY_RESERVING'],
  INVENTORY_RESERVING: ['INVENTORY_RESERVED', 'CANCELED'],
  INVENTORY_RESERVED: ['PAYMENT_PROCESSING'],
  PAYMENT_PROCESSING: ['PAYMENT_APPROVED', 'REVERTING_RESERVATION'],
  PAYMENT_APPROVED: ['PREPARING_SHIPMENT'],
  PREPARING_SHIPMENT: ['SHIPPED'],
  SHIPPED: ['DELIVERED'],
  REVERTING_RESERVATION: ['CANCELED'],
  CANCELED: [],
  DELIVERED: [],
};

/** Every edge ordo adds to the seed's table, and why. Tested to match the machine exactly. */
export const ORDER_EXTENSIONS: readonly { from: OrderState; to: OrderState; why: string }[] = [
  { from: 'INITIATED', to: 'CANCELED', why: 'customer cancels before anything was asked of a service' },
  { from: 'INVENTORY_RESERVING', to: 'REVERTING_RESERVATION', why: 'customer cancels, or the inventory service never answers: release whatever may have been reserved' },
  { from: 'PAYMENT_PROCESSING', to: 'REFUNDING_PAYMENT', why: 'customer cancels, or the provider never answers: void/refund whatever may have been captured' },
  { from: 'PREPARING_SHIPMENT', to: 'REFUNDING_PAYMENT', why: 'the shipment cannot be prepared after payment' },
  { from: 'REFUNDING_PAYMENT', to: 'REVERTING_RESERVATION', why: 'refund confirmed; next compensation in reverse order' },
  { from: 'REFUNDING_PAYMENT', to: 'COMPENSATION_FAILED', why: 'the refund kept failing or never answered' },
  { from: 'REVERTING_RESERVATION', to: 'COMPENSATION_FAILED', why: 'the release kept failing or never answered' },
  { from: 'COMPENSATION_FAILED', to: 'REFUNDING_PAYMENT', why: 'operator retries; the refund is still pending' },
  { from: 'COMPENSATION_FAILED', to: 'REVERTING_RESERVATION', why: 'operator retries; the release is still pending' },
  { from: 'COMPENSATION_FAILED', to: 'CANCELED', why: 'operator retries with nothing left to undo' },
];
