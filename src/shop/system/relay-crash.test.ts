import { describe, expect, it } from 'vitest';
import { checkSystem, toPromela, toTla } from '../../verify/index.js';
import { shopSystem } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const wirings = ['orchestration', 'choreography'] as const;

/**
 * `relaycrash`: the orders relay publishes a committed step's messages, crashes before
 * saving its checkpoint, and publishes them again after restarting — each arrives twice.
 */
describe('the relaycrash fault (the engine’s outbox relay crashes between publish and checkpoint)', () => {
  it.each(wirings)('%s: a payment decider that is not idempotent is caught only with relaycrash', (mode) => {
    const bad = shopSystem({ orders: 1, context, nonIdempotentPayment: true, mode });
    for (const faults of [{}, { enginecrash: 1 }, { decline: 1, cancel: 1, timeout: 1, provider: 1 }] as Record<string, number>[]) expect(checkSystem(bad, { keys: 1, faults }).violations, JSON.stringify(faults)).toEqual([]);
    const r = checkSystem(bad, { keys: 1, faults: { relaycrash: 1 } });
    expect(r.violations.map((v) => v.property)).toEqual(['AtMostOneCapture']);
    expect(r.violations[0]?.trace.slice(1).map((s) => `${s.actor} ${s.action}`)).toEqual([
      'orders send OrderCreated',
      'inventory handle ReserveInventory',
      'crash relay publishes twice after: orders handle InventoryReserved',
      'payment handle ProcessPayment',
      'payment handle ProcessPayment',
    ]);
    // The shipped deciders are idempotent: every step published twice changes nothing.
    expect(checkSystem(shopSystem({ orders: 2, context, mode }), { keys: 2, faults: { relaycrash: 2, decline: 1, cancel: 1 } }).violations).toEqual([]);
  });

  it('is in both exports: the Promela model publishes twice under its budget, the TLA+ module has a RelayCrash action', () => {
    const def = shopSystem({ orders: 1, context });
    const pml = toPromela(def, { keys: 1, faults: { relaycrash: 1 } });
    expect(pml).toContain('byte b_relaycrash = 1;');
    expect(pml).toMatch(/b_relaycrash > 0 .*relay publishes twice/);
    expect(toPromela(def, { keys: 1 })).not.toContain('relaycrash');
    const { module } = toTla(def, { keys: 1, faults: { relaycrash: 1 } });
    expect(module).toContain('RelayCrash(i) ==');
    expect(module).toMatch(/CrashActor == .*RelayCrash\(i\)/);
  });
});
