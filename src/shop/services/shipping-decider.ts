import type { Participant, WorldChoice } from '../../verify/index.js';
import type { StockItem } from './inventory-decider.js';

export type ShipmentStatus = 'failed' | 'shipped' | 'delivered';
export interface Shipment {
  readonly status: ShipmentStatus;
  readonly items: readonly StockItem[];
  readonly trackingNumber?: string;
  readonly reason?: string;
}
export type ShippingLocal = Shipment | undefined;

export type ShippingCommand =
  | { readonly type: 'PrepareShipment'; readonly payload: { readonly orderId: string; readonly items: readonly StockItem[] } }
  | { readonly type: 'ConfirmDelivery'; readonly payload: { readonly orderId: string } };

export type ShippingEvent =
  | { readonly type: 'ShipmentRecorded'; readonly payload: { readonly shipped: boolean; readonly items: readonly StockItem[]; readonly trackingNumber?: string; readonly reason?: string } }
  | { readonly type: 'DeliveryRecorded'; readonly payload: Record<string, never> }
  | { readonly type: 'PackageShipped'; readonly payload: { readonly orderId: string; readonly trackingNumber: string; readonly items: readonly StockItem[] } }
  | { readonly type: 'ShipmentFailed'; readonly payload: { readonly orderId: string; readonly reason: string } }
  | { readonly type: 'DeliveryConfirmed'; readonly payload: { readonly orderId: string } };

export class ShipmentNotDeliverableError extends Error {
  readonly code = 'SHIPMENT_NOT_DELIVERABLE';
  readonly retryable = false;
  constructor(
    readonly orderId: string,
    readonly status: string,
  ) {
    super(`order ${orderId} cannot be confirmed delivered: shipment is ${status}`);
  }
}

const prepareChoices: readonly WorldChoice<boolean>[] = [{ value: false }, { fault: 'shipfail', value: true, description: 'the warehouse cannot prepare the package' }];

/** The shipping service's per-message behaviour; the world's choice is whether the warehouse fails. Idempotent per order. */
export const shippingDecider: Participant<ShippingLocal, null, boolean, ShippingCommand, ShippingEvent> = {
  name: 'shipping',
  initialLocal: () => undefined,
  internal: ['ShipmentRecorded', 'DeliveryRecorded'],
  choices: { PrepareShipment: prepareChoices },
  decide(command, { local }, fails): ShippingEvent[] {
    const { orderId } = command.payload;
    if (command.type === 'ConfirmDelivery') {
      if (!local || local.status === 'failed') throw new ShipmentNotDeliverableError(orderId, local?.status ?? 'missing');
      return [...(local.status === 'shipped' ? [{ type: 'DeliveryRecorded' as const, payload: {} }] : []), { type: 'DeliveryConfirmed', payload: { orderId } }];
    }
    if (local) {
      if (local.status === 'failed') return [{ type: 'ShipmentFailed', payload: { orderId, reason: local.reason ?? 'failed' } }];
      return [{ type: 'PackageShipped', payload: { orderId, trackingNumber: local.trackingNumber ?? '', items: local.items } }];
    }
    const items = command.payload.items;
    if (fails) {
      const reason = 'the warehouse could not prepare the package';
      return [{ type: 'ShipmentRecorded', payload: { shipped: false, items, reason } }, { type: 'ShipmentFailed', payload: { orderId, reason } }];
    }
    const trackingNumber = `TRK-${orderId}`;
    return [{ type: 'ShipmentRecorded', payload: { shipped: true, items, trackingNumber } }, { type: 'PackageShipped', payload: { orderId, trackingNumber, items: [...items] } }];
  },
  evolve(state, event) {
    if (event.type === 'ShipmentRecorded') {
      const p = event.payload;
      return { ...state, local: { status: p.shipped ? 'shipped' : 'failed', items: p.items, ...(p.trackingNumber ? { trackingNumber: p.trackingNumber } : {}), ...(p.reason ? { reason: p.reason } : {}) } };
    }
    if (event.type === 'DeliveryRecorded' && state.local) return { ...state, local: { ...state.local, status: 'delivered' } };
    return state;
  },
};
