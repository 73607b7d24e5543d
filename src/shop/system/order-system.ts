import type { AnyParticipant, SystemDefinition, VersionedSystem } from '../../verify/index.js';
import { orderMachine, ORDER_EXTENSIONS, SEED_TRANSITIONS } from '../order-machine.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../order-machine-v2.js';
import { inventoryDecider, type InventoryShared, type SkuStock } from '../services/inventory-decider.js';
import { paymentDeciderWith } from '../services/payment-decider.js';
import { shippingDecider } from '../services/shipping-decider.js';
import { orderInvariants, orderLiveness } from './order-properties.js';

type AnyMachine = SystemDefinition['machine'];

/** The seed's valid transitions plus the edges ordo documents as extensions (ValidStateTransitions). */
export function allowedOrderTransitions(): Record<string, string[]> {
  const allowed: Record<string, string[]> = {};
  for (const [from, tos] of Object.entries(SEED_TRANSITIONS)) allowed[from] = [...tos];
  for (const e of ORDER_EXTENSIONS) (allowed[e.from] ??= []).push(e.to);
  return allowed;
}

export const SAMPLE_ORDER_CONTEXT = { orderId: 'order-1', customerId: 'customer-1', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }], total: 1000 };

export interface ShopSystemOptions {
  /** Orders in one run: the default stock is one fewer, so someone can be refused. */
  readonly orders: number;
  readonly stock?: number;
  /** The order machine (the shop's or a variant of it). */
  readonly machine?: AnyMachine;
  /** Context every order starts with (its items decide what each reserves). */
  readonly context?: typeof SAMPLE_ORDER_CONTEXT;
  /** ValidStateTransitions: default the seed's table plus ordo's documented extensions. */
  readonly allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  /** Broken variant: the payment decider captures again on a duplicate ProcessPayment. */
  readonly nonIdempotentPayment?: boolean;
  /** Replace a participant's decider (a mutant), by name. */
  readonly participants?: Readonly<Record<string, AnyParticipant>>;
  readonly canceledState?: string;
  /** The payment decider's fraud rule as a world choice (fault `fraud`): on for a machine that sends CheckFraud. */
  readonly fraudCheck?: boolean;
}

/**
 * The shop as one system definition: the order machine orchestrating the inventory,
 * payment and shipping deciders the services run. The checker, the exports and the
 * replay harness are generated from it.
 */
export function shopSystem(o: ShopSystemOptions): SystemDefinition {
  const context = o.context ?? SAMPLE_ORDER_CONTEXT;
  const stock = o.stock ?? Math.max(1, o.orders - 1);
  const initialStock: InventoryShared = Object.fromEntries(context.items.map((i): [string, SkuStock] => [i.sku, { available: stock, reserved: 0, shipped: 0 }]));
  const canceled = o.canceledState ?? 'CANCELED';
  const machine = o.machine ?? (orderMachine);
  const chosen = [inventoryDecider, paymentDeciderWith({ idempotent: !o.nonIdempotentPayment, fraudCheck: o.fraudCheck ?? false }), shippingDecider] as AnyParticipant[];
  return {
    name: 'order',
    orchestrator: 'orders',
    machine,
    context,
    participants: chosen.map((p) => o.participants?.[p.name] ?? p),
    wiring: { mode: 'orchestration', reactions: [{ from: 'shipping', event: 'PackageShipped', to: 'inventory' }] },
    initialShared: { inventory: initialStock, payment: null, shipping: null },
    environment: [
      { event: 'OrderCreated', actor: 'orders' },
      { event: 'CancelRequested', actor: 'customer', fault: 'cancel' },
      { event: 'DeliveryConfirmed', actor: 'carrier' },
      { event: 'CompensationRetried', actor: 'operator' },
    ],
    invariants: orderInvariants(initialStock, canceled),
    liveness: orderLiveness(canceled),
    allowedTransitions: o.allowedTransitions ?? allowedOrderTransitions(),
    faultDescriptions: { cancel: 'the customer cancels' },
  };
}

/** The shop with order machine v2 (a fraud check before payment): everything else as in v1, plus the fraud rule's choice. */
export function orderSystemV2(o: ShopSystemOptions): SystemDefinition {
  return shopSystem({ ...o, machine: o.machine ?? (orderMachineV2), fraudCheck: true });
}

/** The shop in both versions with the live migration between them (`ordo verify order --migration v1→v2`). */
export function shopVersions(o: ShopSystemOptions): VersionedSystem {
  return { name: 'order', versions: { 1: shopSystem(o), 2: orderSystemV2(o) }, migrations: [orderMigrationV1toV2] };
}
