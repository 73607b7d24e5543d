import { describe, expect, it } from 'vitest';
import { runSpin, spinAvailable } from '../../../bench/spin.js';
import { checkSystem, toPromela } from '../../verify/index.js';
import { orderSystemV2, shopSystem } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };

const hasSpin = spinAvailable();
if (!hasSpin) console.warn('SKIPPED: the SPIN cross-check needs `spin` and `gcc` on PATH (apt-get install -y spin gcc)');

// Acceptance: ordo's state count equals SPIN's "states, stored" on ordo's own Promela export,
// both generated from the shop's system definition (the order machine and the services' deciders).
describe.skipIf(!hasSpin)('ordo and SPIN count the same states (pan -DNOREDUCE, no symmetry)', () => {
  const cases: [number, Record<string, number>][] = [
    [1, {}],
    [2, {}],
    [3, {}],
    [1, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [2, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [3, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [2, { loss: 1, reorder: 1, crash: 1, provider: 1, shipfail: 1, refundfail: 1 }],
    [2, { enginecrash: 2, dup: 1, decline: 1 }],
  ];
  it.each(cases)('N = %i, faults %j', (orders, faults) => {
    const def = shopSystem({ orders, context });
    const ordo = checkSystem(def, { keys: orders, faults }, { liveness: false });
    const spin = runSpin(toPromela(def, { keys: orders, faults }));
    expect(spin.errors).toBe(0);
    expect(spin.states).toBe(ordo.states);
    // pan also counts the step into the initial state.
    expect(spin.transitions).toBe(ordo.transitions + 1);
  }, 120_000);

  // Order machine v2 (the fraud check before payment), with the fraud rule's choice.
  it.each([
    [1, {}],
    [2, {}],
    [1, { fraud: 1, dup: 1, decline: 1, cancel: 1 }],
    [2, { fraud: 1, dup: 1, timeout: 1 }],
  ] as [number, Record<string, number>][])('v2: N = %i, faults %j', (orders, faults) => {
    const def = orderSystemV2({ orders, context });
    const ordo = checkSystem(def, { keys: orders, faults }, { liveness: false });
    const spin = runSpin(toPromela(def, { keys: orders, faults }));
    expect(spin.errors).toBe(0);
    expect([spin.states, spin.transitions]).toEqual([ordo.states, ordo.transitions + 1]);
  }, 120_000);

  it('also agrees on a broken variant (non-idempotent payment under duplication)', () => {
    const def = shopSystem({ orders: 2, context, nonIdempotentPayment: true });
    const run = { keys: 2, faults: { dup: 2 } };
    expect(runSpin(toPromela(def, run)).states).toBe(checkSystem(def, run, { liveness: false }).states);
  }, 60_000);
});
