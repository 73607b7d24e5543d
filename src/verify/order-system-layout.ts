import type { Machine } from '../machine/index.js';
import { SERVICES, type LocalTable } from './order-local-table.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/*
 * The vocabulary of the packed order system (OrderSystem): faults, actors, service
 * records, queues, action kinds, its options and the readable view of a state.
 */

/** Faults a run may inject, each with a budget (how many times it may happen in one behaviour). */
export const FAULTS = ['loss', 'dup', 'reorder', 'crash', 'timeout', 'decline', 'provider', 'shipfail', 'cancel'] as const;
export type Fault = (typeof FAULTS)[number];

/** Who takes a step; the first FAIR_ACTOR_COUNT are weakly fair (liveness assumes they keep going). */
export const ACTORS = ['orders', 'inventory', 'payment', 'shipping', 'carrier', 'operator', 'timer', 'customer', 'network', 'crash'] as const;
export type Actor = (typeof ACTORS)[number];
export const FAIR_ACTOR_COUNT = 7;
export const FAIR_MASK = (1 << FAIR_ACTOR_COUNT) - 1;
/** Index of each actor and fault, as the packed state and the action codes number them. */
export const ACTOR_INDEX = Object.fromEntries(ACTORS.map((a, i) => [a, i])) as Record<Actor, number>;
export const FAULT_INDEX = Object.fromEntries(FAULTS.map((f, i) => [f, i])) as Record<Fault, number>;

/** Per-order service records (one byte each). */
export const INV = { none: 0, reserved: 1, released: 2, shipped: 3, refused: 4 } as const;
export const PAY = { none: 0, captured: 1, refunded: 2, declined: 3 } as const;
export const SHIP = { none: 0, shipped: 1, failed: 2 } as const;

/** Queue indexes inside an order's block: one command queue per service, then the order's reply queue. */
export const QUEUES = [...SERVICES, 'replies'] as const;
export const Q_REPLY = 3;

/** Action kinds (action code = kind << 16 | order << 8 | param). */
export const KIND = {
  environment: 1,
  timer: 2,
  deliver: 3,
  inventory: 4,
  inventoryCrash: 5,
  payment: 6,
  paymentCrash: 7,
  paymentDecline: 8,
  paymentSilent: 9,
  shipping: 10,
  shippingCrash: 11,
  shippingFail: 12,
  dup: 13,
  reorder: 14,
  loss: 15,
} as const;

export interface OrderSystemOptions {
  /** The order machine (the shop's `orderMachine` or a variant of it). */
  readonly machine: AnyMachine;
  /** Context each order starts with (its orderId is irrelevant: orders are told apart by position). */
  readonly context: unknown;
  readonly orders: number;
  /** Units of the one SKU in stock (default: one fewer than orders, so someone can be refused). */
  readonly stock?: number;
  /** Units each order asks for (default 1). */
  readonly quantity?: number;
  /** Fault budgets; a fault not listed (or 0) never happens. */
  readonly faults?: Partial<Record<Fault, number>>;
  /** Slots per message queue (default derived from the budgets). */
  readonly capacity?: number;
  /** Canonicalise states by sorting the orders (they are interchangeable). */
  readonly symmetry?: boolean;
  /** Broken variant: the payment service captures again on a duplicate ProcessPayment. */
  readonly nonIdempotentPayment?: boolean;
  /** ValidStateTransitions: allowed state changes (default: the machine's own edges). */
  readonly allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  /** Name of the final state that means "canceled" (default CANCELED). */
  readonly canceledState?: string;
}

export interface ResolvedOptions {
  readonly orders: number;
  readonly stock: number;
  readonly quantity: number;
  readonly faults: Readonly<Record<Fault, number>>;
  readonly capacity: number;
  readonly symmetry: boolean;
  readonly nonIdempotentPayment: boolean;
}

export type Emit = (next: Uint8Array, actor: number, action: number, invalidTransition: boolean) => void;

export interface SystemView {
  readonly available: number;
  readonly orders: readonly {
    readonly state: string;
    readonly inventory: string;
    readonly payment: string;
    readonly captures: number;
    readonly shipping: string;
    readonly inFlight: readonly string[];
  }[];
}

/** What reading a packed state needs to know of its system (OrderSystem has it). */
export interface PackedLayout {
  readonly table: LocalTable;
  readonly options: ResolvedOptions;
  base(order: number): number;
  queueOffset(order: number, queue: number): number;
}
