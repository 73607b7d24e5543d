import { describe, expect, it } from 'vitest';
import { runSpin, spinAvailable, spinForCounts } from '../../../bench/spin.js';
import { checkSystem, toPromela, type SystemDefinition } from '../../verify/index.js';
import { shipsBeforePayment } from './choreography-mutants.js';
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
    [2, { relaycrash: 2, timeout: 1, cancel: 1 }],
  ];
  // Both wirings: choreography routes the machine's published events by the services' subscriptions.
  const wirings = ['orchestration', 'choreography'] as const;
  it.each(wirings.flatMap((mode) => cases.map(([n, f]): [(typeof wirings)[number], number, Record<string, number>] => [mode, n, f])))('%s, N = %i, faults %j', (mode, orders, faults) => {
    const def = shopSystem({ orders, context, mode });
    const ordo = checkSystem(def, { keys: orders, faults }, { liveness: false });
    const spin = runSpin(toPromela(def, { keys: orders, faults }), spinForCounts(ordo.states));
    expect(spin.errors).toBe(0);
    expect(spin.states).toBe(ordo.states);
    // pan also counts the step into the initial state.
    expect(spin.transitions).toBe(ordo.transitions + 1);
  }, 120_000);

  it('agrees on a machine whose two wirings differ (ShipmentRequested published early: only choreography ships unpaid)', () => {
    const run = { keys: 2, faults: { decline: 1 } };
    const [orch, choreo] = (['orchestration', 'choreography'] as const).map((mode) => shopSystem({ orders: 2, context, mode, machine: shipsBeforePayment }));
    const ordo = checkSystem(choreo as SystemDefinition, run, { liveness: false });
    expect(ordo.states).not.toBe(checkSystem(orch as SystemDefinition, run, { liveness: false }).states);
    expect(runSpin(toPromela(choreo as SystemDefinition, run), spinForCounts(ordo.states)).states).toBe(ordo.states);
  }, 60_000);

  // Order machine v2 (the fraud check before payment), with the fraud rule's choice.
  it.each([
    [1, {}],
    [2, {}],
    [1, { fraud: 1, dup: 1, decline: 1, cancel: 1 }],
    [2, { fraud: 1, dup: 1, timeout: 1 }],
  ] as [number, Record<string, number>][])('v2: N = %i, faults %j', (orders, faults) => {
    const def = orderSystemV2({ orders, context });
    const ordo = checkSystem(def, { keys: orders, faults }, { liveness: false });
    const spin = runSpin(toPromela(def, { keys: orders, faults }), spinForCounts(ordo.states));
    expect(spin.errors).toBe(0);
    expect([spin.states, spin.transitions]).toEqual([ordo.states, ordo.transitions + 1]);
  }, 120_000);

  it('also agrees on a broken variant (non-idempotent payment under duplication)', () => {
    const def = shopSystem({ orders: 2, context, nonIdempotentPayment: true });
    const run = { keys: 2, faults: { dup: 2 } };
    const ordo = checkSystem(def, run, { liveness: false });
    expect(runSpin(toPromela(def, run), spinForCounts(ordo.states)).states).toBe(ordo.states);
  }, 60_000);

  it('a search bound the model outgrows still counts every state: pan runs again with the default bound', () => {
    const def = shopSystem({ orders: 1, context });
    const ordo = checkSystem(def, { keys: 1, faults: {} }, { liveness: false });
    const spin = runSpin(toPromela(def, { keys: 1, faults: {} }), { ...spinForCounts(ordo.states), maxDepth: 5 });
    expect(spin.depth).toBeGreaterThan(5);
    expect(spin.states).toBe(ordo.states);
  }, 60_000);
});
