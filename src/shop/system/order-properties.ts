import { dataInvariant, dataLiveness, P, type BoolExpr, type DataInvariant, type DataLiveness } from '../../verify/index.js';
import type { InventoryShared } from '../services/inventory-decider.js';

/** The provider holds the customer's money: captured and neither refunded nor declined. */
const chargedAt = (k: string): BoolExpr => P.isIn(P.local('payment', k, 'status'), 'approved', 'no-answer');
const reservation = (k: string, ...statuses: string[]) => P.isIn(P.local('inventory', k, 'status'), ...statuses);

/** Stock one order holds of a SKU: its reservation's quantity while reserved or shipped. */
const held = (sku: string, k: string) => P.ite(reservation(k, 'reserved', 'shipped'), P.value(P.local('inventory', k, 'items', { where: { sku } }, 'quantity')), P.num(0));

/**
 * The shop owner's invariants over the participants' states, as data: the checker, the
 * Promela and TLA+ exports and the runtime monitor all evaluate these same formulas.
 * `initialStock` gives each SKU's total (available + reserved + shipped) at the start.
 */
export function orderInvariants(initialStock: InventoryShared, canceledState: string): DataInvariant[] {
  const skus = Object.entries(initialStock).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    dataInvariant(
      'StockConservation',
      'available + reserved + shipped = initial stock',
      P.and(...skus.map(([sku, s]) => P.cmp(P.add(P.value(P.shared('inventory', sku, 'available')), P.sum('k', held(sku, 'k'))), '==', P.num(s.available + s.reserved + s.shipped)))),
    ),
    dataInvariant('AtMostOneCapture', 'each order is charged at most once', P.forall('k', P.cmp(P.value(P.local('payment', 'k', 'captures')), '<=', P.num(1)))),
    dataInvariant(
      'NoUnpaidShipment',
      'nothing ships unless its payment is captured (and not refunded)',
      P.forall('k', P.implies(P.isIn(P.local('shipping', 'k', 'status'), 'shipped', 'delivered'), P.isIn(P.local('payment', 'k', 'status'), 'approved'))),
    ),
    dataInvariant(
      'NoChargeWithoutRefund',
      'once nothing is in flight for it, no canceled order is left charged',
      P.forall('k', P.implies(P.quiet('k'), P.not(P.and(P.state('k', canceledState), chargedAt('k'))))),
    ),
  ];
}

export function orderLiveness(canceledState: string): DataLiveness[] {
  const canceled = (k: string) => P.state(k, canceledState);
  const declined = (k: string) => P.isIn(P.local('payment', k, 'status'), 'declined');
  const rejected = (k: string) => reservation(k, 'rejected');
  return [
    dataLiveness('EventuallyTerminates', 'every order reaches a final state (DELIVERED or CANCELED)', P.exists('k', P.not(P.final('k'))), P.bool(true)),
    dataLiveness('CompensationWorks', 'an order whose payment was refused ends CANCELED', P.exists('k', P.and(declined('k'), P.not(canceled('k')))), P.exists('k', declined('k'))),
    dataLiveness(
      'InventoryConsistency',
      'an order refused by inventory ends CANCELED, and a canceled order ends holding no stock',
      P.exists('k', P.or(P.and(rejected('k'), P.not(canceled('k'))), P.and(canceled('k'), reservation('k', 'reserved')))),
      P.exists('k', P.or(rejected('k'), P.and(canceled('k'), reservation('k', 'reserved', 'released')))),
    ),
  ];
}
