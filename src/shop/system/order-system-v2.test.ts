import { describe, expect, it } from 'vitest';
import { checkSystem, faultsOf, type SystemCheckResult } from '../../verify/index.js';
import { orderMachineV2 } from '../order-machine-v2.js';
import { orderSystemV2, shopSystem } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const status = (r: SystemCheckResult) => Object.fromEntries(r.properties.map((p) => [p.name, p.status]));
const steps = (r: SystemCheckResult, property: string) => r.violations.find((v) => v.property === property)?.trace.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);

describe('the shop with order machine v2 (fraud check before payment) as a system definition', () => {
  it('shares v1 but for the machine and the fraud rule, whose choice only v2 offers', () => {
    expect(faultsOf(orderSystemV2({ orders: 1 })).sort()).toEqual([...faultsOf(shopSystem({ orders: 1 })), 'fraud'].sort());
    expect(orderSystemV2({ orders: 1 }).machine.version).toBe(2);
  });

  it('holds every property under faults, the fraud rule included (N = 2)', () => {
    const r = checkSystem(orderSystemV2({ orders: 2, context }), { keys: 2, faults: { dup: 1, decline: 1, fraud: 1, cancel: 1, timeout: 1 } });
    expect(r.violations).toEqual([]);
    expect(Object.values(status(r)).every((s) => s === 'holds')).toBe(true);
    expect(r.states).toBeGreaterThan(checkSystem(shopSystem({ orders: 2, context }), { keys: 2, faults: { dup: 1, decline: 1, cancel: 1, timeout: 1 } }).states);
  });

  it('catches a v2 that lets a suspected order through to payment (the fraud verdict ignored), with the shortest trace', () => {
    // Broken variant: FraudSuspected goes on to PAYMENT_PROCESSING. The shop's properties say nothing about
    // fraud, so the test adds the one the shop owner would: a suspected order is never charged.
    const fc = orderMachineV2.states.FRAUD_CHECKING;
    const lets = { ...orderMachineV2, states: { ...orderMachineV2.states, FRAUD_CHECKING: { ...fc, on: { ...fc.on, FraudSuspected: (fc.on['FraudSuspected'] ?? []).map((t) => ({ ...t, target: 'PAYMENT_PROCESSING' })) } } } } as typeof orderMachineV2;
    const def = orderSystemV2({ orders: 1, context, machine: lets });
    const noChargeOnSuspicion = {
      name: 'NoChargeOnSuspicion',
      description: 'an order the fraud rule suspected is never charged',
      holds: (v: Parameters<(typeof def.invariants)[number]['holds']>[0]) => {
        const p = v.local<{ status: string; fraud?: { verdict: string } } | undefined>('payment', 0);
        return !(p?.fraud?.verdict === 'suspected' && p.status === 'approved');
      },
    };
    const r = checkSystem({ ...def, invariants: [...def.invariants, noChargeOnSuspicion] }, { keys: 1, faults: { fraud: 1 } });
    expect(steps(r, 'NoChargeOnSuspicion')).toEqual([
      'orders 1 send OrderCreated',
      'inventory 1 handle ReserveInventory',
      'orders 1 handle InventoryReserved',
      'payment 1 fraud CheckFraud',
      'orders 1 handle FraudSuspected',
      'payment 1 handle ProcessPayment',
    ]);
    // The shipped v2 keeps it.
    const ok = orderSystemV2({ orders: 1, context });
    expect(checkSystem({ ...ok, invariants: [...ok.invariants, noChargeOnSuspicion] }, { keys: 1, faults: { fraud: 1 } }).violations).toEqual([]);
  });
});
