import { orderMachine } from '../order-machine.js';
import type { ShopSystemOptions } from './order-system.js';

/**
 * Test fixture: the order machine with one bug that only choreography sees — it also
 * publishes ShipmentRequested when it asks for the payment. In orchestration nobody
 * listens to it; in choreography the shipping service prepares (and ships) an unpaid order.
 */
export const shipsBeforePayment = (() => {
  const pp = orderMachine.states.PAYMENT_PROCESSING;
  const early = { kind: 'publish', message: 'ShipmentRequested', build: (c: { orderId: string; items: unknown }) => ({ orderId: c.orderId, items: c.items }) };
  return { ...orderMachine, states: { ...orderMachine.states, PAYMENT_PROCESSING: { ...pp, entry: [...pp.entry, early] } } } as unknown as NonNullable<ShopSystemOptions['machine']>;
})();
