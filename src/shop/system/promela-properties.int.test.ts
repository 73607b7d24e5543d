import { describe, expect, it } from 'vitest';
import { runSpin, runSpinClaims, spinAvailable, spinForCounts } from '../../../bench/spin.js';
import { checkSystem, toPromela, type SystemDefinition } from '../../verify/index.js';
import { refundsNothing, reservesTwice, shipsUnpaid } from './order-mutants.js';
import { shopSystem, type ShopSystemOptions } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const hasSpin = spinAvailable();
if (!hasSpin) console.warn('SKIPPED: the SPIN property checks need `spin` and `gcc` on PATH (apt-get install -y spin gcc)');

const names = (def: SystemDefinition) => [...def.invariants, ...def.liveness].map((p) => p.name);

/** Every ltl claim of the export checked by pan; the names of those SPIN finds violated. */
function spinViolations(def: SystemDefinition, keys: number, faults: Record<string, number>): string[] {
  const runs = runSpinClaims(toPromela(def, { keys, faults }), names(def), spinForCounts());
  for (const [claim, r] of Object.entries(runs)) expect(r.output, `pan ran claim ${claim}`).toContain(`never claim         \t+ (${claim})`);
  return Object.entries(runs)
    .filter(([, r]) => r.errors > 0)
    .map(([claim]) => claim)
    .sort();
}

// The export carries each data property as an ltl claim; SPIN must agree with ordo on every one.
describe.skipIf(!hasSpin)('SPIN checks the properties of the Promela export', () => {
  it.each([
    [1, {}],
    [2, {}],
    [1, { dup: 1, decline: 1, cancel: 1 }],
    [2, { dup: 1, decline: 1, cancel: 1 }],
  ])('the shop at N = %i, faults %j: every invariant and liveness claim holds (zero errors)', (orders, faults) => {
    const def = shopSystem({ orders, context });
    expect(checkSystem(def, { keys: orders, faults }).violations).toEqual([]);
    expect(spinViolations(def, orders, faults)).toEqual([]);
  }, 120_000);

  const mutants: [string, Partial<ShopSystemOptions>, Record<string, number>, string[]][] = [
    ['StockConservation', { participants: { inventory: reservesTwice }, stock: 2 }, { dup: 1 }, ['StockConservation']],
    ['AtMostOneCapture', { nonIdempotentPayment: true }, { dup: 1 }, ['AtMostOneCapture']],
    ['NoChargeWithoutRefund', { participants: { payment: refundsNothing } }, { cancel: 1 }, ['NoChargeWithoutRefund']],
    ['NoUnpaidShipment', { machine: shipsUnpaid }, { decline: 1 }, ['CompensationWorks', 'NoUnpaidShipment']],
  ];
  it.each(mutants)('the %s mutant: SPIN reports exactly the claims ordo finds violated', (_name, options, faults, expected) => {
    const def = shopSystem({ orders: 1, context, ...options });
    const ordo = checkSystem(def, { keys: 1, faults });
    expect(ordo.violations.map((v) => v.property).sort()).toEqual(expected);
    expect(spinViolations(def, 1, faults)).toEqual(expected);
  }, 60_000);

  it('the claims leave the state count alone: pan without claims (-DNOCLAIM) still stores ordo\'s states', () => {
    const def = shopSystem({ orders: 2, context });
    const run = { keys: 2, faults: { dup: 1, decline: 1 } };
    const ordo = checkSystem(def, run, { liveness: false });
    expect(runSpin(toPromela(def, run), spinForCounts(ordo.states)).states).toBe(ordo.states);
  }, 60_000);
});
