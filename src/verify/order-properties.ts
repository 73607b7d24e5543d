import { INV, PAY, SHIP, type OrderSystem } from './order-system.js';

/** A state predicate that must hold in every reachable state. */
export interface SafetyProperty {
  readonly name: string;
  readonly description: string;
  readonly holds: (s: Uint8Array) => boolean;
}

/**
 * A liveness property in the form "no fair behaviour stays pending forever":
 * `pending` marks states with an unmet obligation, and each obligation is
 * stable until met, so a violation is a deadlock or a fair cycle inside the
 * pending states. `premise` marks states where the obligation arises at all
 * (never reached: the property is reported as vacuous).
 */
export interface LivenessProperty {
  readonly name: string;
  readonly description: string;
  readonly pending: (s: Uint8Array) => boolean;
  readonly premise: (s: Uint8Array) => boolean;
}

export const VALID_STATE_TRANSITIONS = 'ValidStateTransitions';

function perOrder(m: OrderSystem, s: Uint8Array, f: (b: number, local: number) => boolean): boolean {
  for (let i = 0; i < m.options.orders; i++) {
    const b = m.base(i);
    if (f(b, s[b] ?? 0)) return true;
  }
  return false;
}

function quiescent(m: OrderSystem, s: Uint8Array): boolean {
  for (let i = 0; i < m.options.orders; i++) if (s[m.queueOffset(i, 0)] || s[m.queueOffset(i, 1)] || s[m.queueOffset(i, 2)] || s[m.queueOffset(i, 3)]) return false;
  return true;
}

export function safetyProperties(m: OrderSystem): SafetyProperty[] {
  const { stock, quantity } = m.options;
  const canceled = m.canceled;
  return [
    {
      name: 'StockConservation',
      description: 'available + reserved + shipped = initial stock',
      holds: (s) => {
        let held = 0;
        for (let i = 0; i < m.options.orders; i++) {
          const inv = s[m.base(i) + 1];
          if (inv === INV.reserved || inv === INV.shipped) held += quantity;
        }
        return (s[0] ?? 0) + held === stock;
      },
    },
    {
      name: 'AtMostOneCapture',
      description: 'each order is charged at most once',
      holds: (s) => !perOrder(m, s, (b) => (s[b + 3] ?? 0) > 1),
    },
    {
      name: 'NoUnpaidShipment',
      description: 'nothing ships unless its payment is captured (and not refunded)',
      holds: (s) => !perOrder(m, s, (b) => s[b + 4] === SHIP.shipped && s[b + 2] !== PAY.captured),
    },
    {
      name: 'NoChargeWithoutRefund',
      description: 'when no message is in flight, no canceled order is left charged',
      holds: (s) => !quiescent(m, s) || !perOrder(m, s, (b, l) => canceled[l] === 1 && s[b + 2] === PAY.captured),
    },
  ];
}

export function livenessProperties(m: OrderSystem): LivenessProperty[] {
  const final = m.table.final;
  const canceled = m.canceled;
  return [
    {
      name: 'EventuallyTerminates',
      description: 'every order reaches a final state (DELIVERED or CANCELED)',
      pending: (s) => perOrder(m, s, (_b, l) => final[l] !== 1),
      premise: () => true,
    },
    {
      name: 'CompensationWorks',
      description: 'an order whose payment was refused ends CANCELED',
      pending: (s) => perOrder(m, s, (b, l) => s[b + 2] === PAY.declined && canceled[l] !== 1),
      premise: (s) => perOrder(m, s, (b) => s[b + 2] === PAY.declined),
    },
    {
      name: 'InventoryConsistency',
      description: 'an order refused by inventory ends CANCELED, and a canceled order ends holding no stock',
      pending: (s) => perOrder(m, s, (b, l) => (s[b + 1] === INV.refused && canceled[l] !== 1) || (canceled[l] === 1 && s[b + 1] === INV.reserved)),
      premise: (s) => perOrder(m, s, (b, l) => s[b + 1] === INV.refused || (canceled[l] === 1 && (s[b + 1] === INV.reserved || s[b + 1] === INV.released))),
    },
  ];
}
