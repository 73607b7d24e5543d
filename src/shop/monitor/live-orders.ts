import type { Queryable } from '../../store/index.js';
import type { LiveKey, LiveSnapshot } from '../../verify/index.js';
import type { ServiceViews } from '../reconcile/check-deps.js';
import type { InventoryLocal } from '../services/inventory-decider.js';
import { readInventory, readReservations } from '../services/inventory-service.js';
import { readCharges } from '../services/payment-service.js';
import { readShipments } from '../services/shipping-service.js';

/** What the monitor needs of the order machine (any of its versions): its id and which states are final. */
export interface OrderMachineShape {
  readonly id: string;
  readonly states: object;
}

export interface LiveOrders {
  readonly snapshot: LiveSnapshot;
  /** Each SKU's total (available + reserved + shipped) as the stock table keeps it: the shop's invariants take it as their initial stock. */
  readonly initial: Readonly<Record<string, { available: number; reserved: number; shipped: number }>>;
}

/**
 * The shop's live state as the system definition sees it, one key per order: the machine
 * state from the orders database, each participant's local state and the inventory's
 * shared stock from the services' own databases, with the mappings their loaders use to
 * run their deciders. An order is quiet when it is final and unchanged for `graceMs`
 * (its last messages have long been relayed and handled).
 *
 * The databases are read one after the other, stock before reservations before orders:
 * anything that commits in between shows up as an order not yet quiet (or one the orders
 * database does not list), and the snapshot is then not used for system-wide properties.
 */
export async function readLiveOrders(orders: { readonly db: Queryable; readonly machine: OrderMachineShape }, views: ServiceViews, graceMs: number): Promise<LiveOrders> {
  const inventory = await readInventory(views.inventory);
  const rows = (
    await orders.db.query<InstanceRow>(
      `SELECT id, state, machine_version AS version, updated_at < now() - $2::double precision * interval '1 millisecond' AS settled FROM ordo_saga_instances WHERE machine_id = $1 ORDER BY id`,
      [orders.machine.id, graceMs],
    )
  ).rows;
  const keys = await keysOf(orders.machine, views, rows, inventory.reservations);
  const known = new Set(rows.map((r) => r.id));
  const strays = [...inventory.reservations.keys()].filter((id) => !known.has(id)).length;
  return {
    snapshot: { keys, shared: { inventory: inventory.stock, payment: null, shipping: null }, ...(strays > 0 ? { incomplete: `${strays} reservation(s) of orders the orders database does not list (archived, or placed during the read)` } : {}) },
    initial: initialStockOf(inventory.initial),
  };
}

/** Each SKU's `initial` from the stock table as the invariants take their initial stock (all of it available). */
export function initialStockOf(initial: Readonly<Record<string, number>>): LiveOrders['initial'] {
  return Object.fromEntries(Object.entries(initial).map(([sku, n]) => [sku, { available: n, reserved: 0, shipped: 0 }]));
}

/** An order's instance as the monitor reads it: `settled` = unchanged for the grace period. */
export interface InstanceRow {
  readonly id: string;
  readonly state: string;
  readonly version: number;
  readonly settled: boolean;
}

/**
 * The keys of the given orders with each participant's local state, read by order id
 * (reservations too, unless the caller read them all already): what a round judges
 * per key costs the orders it judges, whatever else is stored.
 */
export async function keysOf(machine: OrderMachineShape, views: ServiceViews, rows: readonly InstanceRow[], reservations?: ReadonlyMap<string, InventoryLocal>): Promise<LiveKey[]> {
  const ids = rows.map((r) => r.id);
  const [held, charges, shipments] = await Promise.all([reservations ?? readReservations(views.inventory, ids), readCharges(views.payment, ids), readShipments(views.shipping, ids)]);
  const states = machine.states as Readonly<Record<string, { final?: boolean } | undefined>>;
  return rows.map((r) => {
    const final = states[r.state]?.final === true;
    return { id: r.id, state: r.state, version: r.version, final, quiet: final && r.settled, locals: { inventory: held.get(r.id), payment: charges.get(r.id), shipping: shipments.get(r.id) } };
  });
}
