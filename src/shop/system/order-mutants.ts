import type { Participant } from '../../verify/index.js';
import { orderMachine } from '../order-machine.js';
import { inventoryDecider, type InventoryCommand, type InventoryEvent, type InventoryLocal, type InventoryShared } from '../services/inventory-decider.js';
import { paymentDecider, type PaymentCommand, type PaymentEvent, type PaymentLocal, type ProviderAnswer } from '../services/payment-decider.js';
import type { ShopSystemOptions } from './order-system.js';

/** Broken variants of the shop, one per invariant it ships: the checker, SPIN and the tests must each catch them. */
// Inventory that reserves again on a redelivered ReserveInventory.
export const reservesTwice: Participant<InventoryLocal, InventoryShared, undefined, InventoryCommand, InventoryEvent> = {
  ...inventoryDecider,
  decide: (c, s, x) => (c.type === 'ReserveInventory' && s.local?.status === 'reserved' ? [{ type: 'StockReserved', payload: { items: c.payload.items } }, { type: 'InventoryReserved', payload: { orderId: c.payload.orderId, reservationId: c.payload.orderId } }] : inventoryDecider.decide(c, s, x)),
};
// Payment whose refund answers PaymentRefunded but leaves the charge captured.
export const refundsNothing: Participant<PaymentLocal, null, ProviderAnswer, PaymentCommand, PaymentEvent> = {
  ...paymentDecider,
  decide: (c, s, x) => (c.type === 'RefundPayment' && s.local?.status === 'approved' ? [{ type: 'PaymentRefunded', payload: { orderId: c.payload.orderId } }] : paymentDecider.decide(c, s, x)),
};
// The machine ships an order whose payment was refused.
const pp = orderMachine.states.PAYMENT_PROCESSING;
export const shipsUnpaid = {
  ...orderMachine,
  states: { ...orderMachine.states, PAYMENT_PROCESSING: { ...pp, on: { ...pp.on, PaymentRefused: [{ target: 'PAYMENT_APPROVED', assign: [], effects: [] }] } } },
} as unknown as ShopSystemOptions['machine'];
