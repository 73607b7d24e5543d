import type { Participant } from '../../verify/index.js';

export interface StockItem {
  readonly sku: string;
  readonly quantity: number;
}
export type ReservationStatus = 'reserved' | 'rejected' | 'released' | 'shipped';
export interface Reservation {
  readonly status: ReservationStatus;
  readonly items: readonly StockItem[];
  readonly reason?: string;
}
export interface SkuStock {
  readonly available: number;
  readonly reserved: number;
  readonly shipped: number;
}
/** One order's reservation (none yet: undefined). */
export type InventoryLocal = Reservation | undefined;
/** The stock rows the command touches (the checker: every SKU). */
export type InventoryShared = Readonly<Record<string, SkuStock>>;

export type InventoryCommand =
  | { readonly type: 'ReserveInventory'; readonly payload: { readonly orderId: string; readonly items: readonly StockItem[] } }
  | { readonly type: 'ReleaseInventory'; readonly payload: { readonly orderId: string } }
  /** The carrier has the package (shipping's PackageShipped): reserved stock becomes shipped stock. */
  | { readonly type: 'PackageShipped'; readonly payload: { readonly orderId: string } };

export type InventoryEvent =
  | { readonly type: 'StockReserved'; readonly payload: { readonly items: readonly StockItem[] } }
  | { readonly type: 'ReservationRejected'; readonly payload: { readonly items: readonly StockItem[]; readonly reason: string } }
  | { readonly type: 'StockReleased'; readonly payload: { readonly reason?: string } }
  | { readonly type: 'StockShipped'; readonly payload: Record<string, never> }
  | { readonly type: 'InventoryReserved'; readonly payload: { readonly orderId: string; readonly reservationId: string } }
  | { readonly type: 'InventoryInsufficient'; readonly payload: { readonly orderId: string; readonly reason: string } }
  | { readonly type: 'ReservationReleased'; readonly payload: { readonly orderId: string } }
  | { readonly type: 'ReleaseFailed'; readonly payload: { readonly orderId: string; readonly reason: string } };

/** Sums quantities per SKU and sorts SKUs, so rows are always visited (and locked) in one order. */
export function perSku(items: readonly StockItem[]): [string, number][] {
  const m = new Map<string, number>();
  for (const i of items) m.set(i.sku, (m.get(i.sku) ?? 0) + i.quantity);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function moveStock(stock: InventoryShared, items: readonly StockItem[], move: (row: SkuStock, q: number) => SkuStock): InventoryShared {
  const next: Record<string, SkuStock> = { ...stock };
  for (const [sku, q] of perSku(items)) {
    const row = next[sku];
    if (row) next[sku] = move(row, q);
  }
  return next;
}

/**
 * The inventory service's per-message behaviour. Every command is idempotent per order:
 * the reservation row remembers the answer, a release that overtakes its reservation
 * leaves a tombstone (`released`), so the late reserve is refused.
 */
export const inventoryDecider: Participant<InventoryLocal, InventoryShared, undefined, InventoryCommand, InventoryEvent> = {
  name: 'inventory',
  initialLocal: () => undefined,
  internal: ['StockReserved', 'ReservationRejected', 'StockReleased', 'StockShipped'],
  decide(command, { local, shared }): InventoryEvent[] {
    const { orderId } = command.payload;
    switch (command.type) {
      case 'ReserveInventory': {
        if (local) {
          // A redelivered or late command: answer as before, never reserve twice.
          if (local.status === 'reserved' || local.status === 'shipped') return [{ type: 'InventoryReserved', payload: { orderId, reservationId: orderId } }];
          return [{ type: 'InventoryInsufficient', payload: { orderId, reason: local.reason ?? `reservation already ${local.status}` } }];
        }
        const items = command.payload.items;
        const short = perSku(items).filter(([sku, q]) => (shared[sku]?.available ?? -1) < q);
        if (short.length > 0) {
          const reason = short.map(([sku, q]) => (shared[sku] ? `${sku}: ${q} wanted, ${shared[sku].available} available` : `${sku}: unknown SKU`)).join('; ');
          return [
            { type: 'ReservationRejected', payload: { items, reason } },
            { type: 'InventoryInsufficient', payload: { orderId, reason } },
          ];
        }
        return [
          { type: 'StockReserved', payload: { items } },
          { type: 'InventoryReserved', payload: { orderId, reservationId: orderId } },
        ];
      }
      case 'ReleaseInventory':
        if (!local) return [{ type: 'StockReleased', payload: { reason: 'released before it was reserved' } }, { type: 'ReservationReleased', payload: { orderId } }];
        if (local.status === 'reserved') return [{ type: 'StockReleased', payload: {} }, { type: 'ReservationReleased', payload: { orderId } }];
        if (local.status === 'shipped') return [{ type: 'ReleaseFailed', payload: { orderId, reason: 'the goods have already shipped' } }];
        return [{ type: 'ReservationReleased', payload: { orderId } }];
      case 'PackageShipped':
        return local?.status === 'reserved' ? [{ type: 'StockShipped', payload: {} }] : [];
    }
  },
  evolve(state, event) {
    const { local, shared } = state;
    switch (event.type) {
      case 'StockReserved':
        return { local: { status: 'reserved', items: event.payload.items }, shared: moveStock(shared, event.payload.items, (r, q) => ({ ...r, available: r.available - q, reserved: r.reserved + q })) };
      case 'ReservationRejected':
        return { local: { status: 'rejected', items: event.payload.items, reason: event.payload.reason }, shared };
      case 'StockReleased':
        if (!local) return { local: { status: 'released', items: [], ...(event.payload.reason ? { reason: event.payload.reason } : {}) }, shared };
        return { local: { ...local, status: 'released' }, shared: moveStock(shared, local.items, (r, q) => ({ ...r, available: r.available + q, reserved: r.reserved - q })) };
      case 'StockShipped':
        if (!local) return state;
        return { local: { ...local, status: 'shipped' }, shared: moveStock(shared, local.items, (r, q) => ({ ...r, reserved: r.reserved - q, shipped: r.shipped + q })) };
      default:
        return state;
    }
  },
};
