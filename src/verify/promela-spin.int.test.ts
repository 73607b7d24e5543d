import { describe, expect, it } from 'vitest';
import { runSpin, spinAvailable } from '../../bench/spin.js';
import { orderMachine, ORDER_EXTENSIONS, SEED_TRANSITIONS } from '../shop/index.js';
import { checkOrderSystem } from './system-checker.js';
import { toPromela } from './promela-export.js';
import type { Fault, OrderSystemOptions } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const allowed: Record<string, string[]> = Object.fromEntries(Object.entries(SEED_TRANSITIONS).map(([f, ts]) => [f, [...ts]]));
for (const e of ORDER_EXTENSIONS) (allowed[e.from] ??= []).push(e.to);

const hasSpin = spinAvailable();
if (!hasSpin) console.warn('SKIPPED: the SPIN cross-check needs `spin` and `gcc` on PATH (apt-get install -y spin gcc)');

// Acceptance: ordo's state count equals SPIN's "states, stored" on ordo's own Promela export.
describe.skipIf(!hasSpin)('ordo and SPIN count the same states (pan -DNOREDUCE, no symmetry)', () => {
  const cases: [number, Partial<Record<Fault, number>>][] = [
    [1, {}],
    [2, {}],
    [3, {}],
    [1, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [2, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [3, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [2, { loss: 1, reorder: 1, crash: 1, provider: 1, shipfail: 1 }],
  ];
  it.each(cases)('N = %i, faults %j', (orders, faults) => {
    const options: OrderSystemOptions = { machine: orderMachine, context, orders, faults, allowedTransitions: allowed };
    const ordo = checkOrderSystem(options, { liveness: false });
    const spin = runSpin(toPromela(options));
    expect(spin.errors).toBe(0);
    expect(spin.states).toBe(ordo.states);
    // pan also counts the step into the initial state.
    expect(spin.transitions).toBe(ordo.transitions + 1);
  }, 120_000);

  it('also agrees on a broken variant (non-idempotent payment under duplication)', () => {
    const options: OrderSystemOptions = { machine: orderMachine, context, orders: 2, faults: { dup: 2 }, nonIdempotentPayment: true, allowedTransitions: allowed };
    expect(runSpin(toPromela(options)).states).toBe(checkOrderSystem(options, { liveness: false }).states);
  }, 60_000);
});
