import { z } from 'zod';
import { TIMER_EVENT } from '../machine/index.js';
import { deciderFromMachine, InvalidCommandError, START, type Decider, type MachineRecord, type MachineState } from '../eventsourcing/index.js';
import { OrderItem, orderMachine, type OrderMachine } from './order-machine.js';
import { orderMachineV2 } from './order-machine-v2.js';

/**
 * The seed's OrderAggregate (Axon) as a decider over the order machine: every command is
 * a machine event under the seed's command name, so which command is valid in which state
 * is the machine's business alone, and a refused one throws its InvalidTransitionError.
 */

/** The seed's CreateOrderCommand; the total is computed here, as the seed's event handler does. */
export const CreateOrder = z.object({
  type: z.literal('CreateOrder'),
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  items: z.array(OrderItem).min(1, 'an order must have at least one item'),
});
export type CreateOrder = z.input<typeof CreateOrder>;

/** Command name → the machine event it sends (payload fields pass through). */
export const ORDER_COMMAND_EVENTS = {
  /** The seed's ReserveInventoryCommand: INITIATED → INVENTORY_RESERVING. */
  ReserveInventory: 'OrderCreated',
  /** The seed's ConfirmInventoryReservedCommand. */
  ConfirmInventoryReserved: 'InventoryReserved',
  RejectInventory: 'InventoryInsufficient',
  ConfirmPayment: 'PaymentApproved',
  RefusePayment: 'PaymentRefused',
  ShipOrder: 'PackageShipped',
  FailShipment: 'ShipmentFailed',
  ConfirmDelivery: 'DeliveryConfirmed',
  CancelOrder: 'CancelRequested',
  ConfirmRefund: 'PaymentRefunded',
  FailRefund: 'RefundFailed',
  ConfirmRelease: 'ReservationReleased',
  FailRelease: 'ReleaseFailed',
  RetryCompensation: 'CompensationRetried',
  ExpireTimer: TIMER_EVENT,
} as const;

export type OrderCommand =
  | CreateOrder
  | { readonly type: 'ReserveInventory' }
  | { readonly type: 'ConfirmInventoryReserved'; readonly reservationId: string }
  | { readonly type: 'RejectInventory'; readonly reason?: string }
  | { readonly type: 'ConfirmPayment'; readonly paymentId: string }
  | { readonly type: 'RefusePayment'; readonly reason?: string }
  | { readonly type: 'ShipOrder'; readonly trackingNumber: string }
  | { readonly type: 'FailShipment'; readonly reason?: string }
  | { readonly type: 'ConfirmDelivery' }
  | { readonly type: 'CancelOrder'; readonly reason?: string }
  | { readonly type: 'ConfirmRefund' }
  | { readonly type: 'FailRefund'; readonly reason?: string }
  | { readonly type: 'ConfirmRelease' }
  | { readonly type: 'FailRelease'; readonly reason?: string }
  | { readonly type: 'RetryCompensation' }
  | { readonly type: 'ExpireTimer'; readonly timer: string };

export type OrderAggregateState = MachineState<OrderMachine>;
export type OrderEvent = MachineRecord;

// A stream replays under the version each order was on: v2 orders (the fraud check) and
// orders migrated from v1 (their `ordo.migrated` record) read back as the engine ran them.
const machineDecider = deciderFromMachine(orderMachine, { versions: [orderMachineV2] });

/** Names the state's shape for snapshots: a new machine version ignores older snapshots. */
export const ORDER_STATE_SCHEMA = machineDecider.stateSchema;

/** The order's stream in its service's log. */
export function orderStream(orderId: string): string {
  return `order-${orderId}`;
}

function createOrder(command: CreateOrder, state: OrderAggregateState): readonly OrderEvent[] {
  const r = CreateOrder.safeParse(command);
  if (!r.success) throw new InvalidCommandError('CreateOrder', r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const { orderId, customerId, items } = r.data;
  const total = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
  return machineDecider.decide({ type: START, context: { orderId, customerId, items, total } }, state);
}

export const orderDecider: Decider<OrderAggregateState, OrderCommand, OrderEvent> = {
  initialState: machineDecider.initialState,
  evolve: machineDecider.evolve,
  decide(command, state) {
    if (command.type === 'CreateOrder') return createOrder(command, state);
    const eventType = (ORDER_COMMAND_EVENTS as Record<string, string>)[command.type];
    if (eventType === undefined) throw new InvalidCommandError(String(command.type), ['unknown order command']);
    const { type: _type, ...payload } = command;
    return machineDecider.decide({ ...payload, type: eventType } as Parameters<typeof machineDecider.decide>[0], state);
  },
};
