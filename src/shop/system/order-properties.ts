import type { SystemInvariant, SystemLiveness, SystemStateView } from '../../verify/index.js';
import type { InventoryLocal, InventoryShared } from '../services/inventory-decider.js';
import type { PaymentLocal } from '../services/payment-decider.js';
import type { ShippingLocal } from '../services/shipping-decider.js';

const inv = (v: SystemStateView, i: number) => v.local<InventoryLocal>('inventory', i);
const pay = (v: SystemStateView, i: number) => v.local<PaymentLocal>('payment', i);
const ship = (v: SystemStateView, i: number) => v.local<ShippingLocal>('shipping', i);
const some = (v: SystemStateView, f: (i: number) => boolean) => {
  for (let i = 0; i < v.keys; i++) if (f(i)) return true;
  return false;
};
/** The provider holds the customer's money: captured and neither refunded nor declined. */
export const charged = (p: PaymentLocal) => p?.status === 'approved' || p?.status === 'no-answer';

/** The shop owner's invariants over the participants' states (the same functions the runtime monitor evaluates). */
export function orderInvariants(initialStock: InventoryShared, canceledState: string): SystemInvariant[] {
  return [
    {
      name: 'StockConservation',
      description: 'available + reserved + shipped = initial stock',
      holds: (v) => {
        const stock = v.shared<InventoryShared>('inventory');
        for (const [sku, start] of Object.entries(initialStock)) {
          let held = 0;
          for (let i = 0; i < v.keys; i++) {
            const r = inv(v, i);
            if (r?.status === 'reserved' || r?.status === 'shipped') for (const it of r.items) if (it.sku === sku) held += it.quantity;
          }
          if ((stock[sku]?.available ?? 0) + held !== start.available + start.reserved + start.shipped) return false;
        }
        return true;
      },
    },
    { name: 'AtMostOneCapture', description: 'each order is charged at most once', holds: (v) => !some(v, (i) => (pay(v, i)?.captures ?? 0) > 1) },
    {
      name: 'NoUnpaidShipment',
      description: 'nothing ships unless its payment is captured (and not refunded)',
      holds: (v) => !some(v, (i) => (ship(v, i)?.status === 'shipped' || ship(v, i)?.status === 'delivered') && pay(v, i)?.status !== 'approved'),
    },
    {
      name: 'NoChargeWithoutRefund',
      description: 'when no message is in flight, no canceled order is left charged',
      holds: (v) => some(v, (i) => !v.quiet(i)) || !some(v, (i) => v.state(i) === canceledState && charged(pay(v, i))),
    },
  ];
}

export function orderLiveness(canceledState: string): SystemLiveness[] {
  const canceled = (v: SystemStateView, i: number) => v.state(i) === canceledState;
  return [
    { name: 'EventuallyTerminates', description: 'every order reaches a final state (DELIVERED or CANCELED)', pending: (v) => some(v, (i) => !v.final(i)), premise: () => true },
    {
      name: 'CompensationWorks',
      description: 'an order whose payment was refused ends CANCELED',
      pending: (v) => some(v, (i) => pay(v, i)?.status === 'declined' && !canceled(v, i)),
      premise: (v) => some(v, (i) => pay(v, i)?.status === 'declined'),
    },
    {
      name: 'InventoryConsistency',
      description: 'an order refused by inventory ends CANCELED, and a canceled order ends holding no stock',
      pending: (v) => some(v, (i) => (inv(v, i)?.status === 'rejected' && !canceled(v, i)) || (canceled(v, i) && inv(v, i)?.status === 'reserved')),
      premise: (v) => some(v, (i) => inv(v, i)?.status === 'rejected' || (canceled(v, i) && (inv(v, i)?.status === 'reserved' || inv(v, i)?.status === 'released'))),
    },
  ];
}
