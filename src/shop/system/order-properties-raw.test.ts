import { describe, expect, it } from 'vitest';
import { BoundView, compileFormula, compileRaw, isDataInvariant, isDataLiveness, P, StateStore, successors, SystemModel, type BoolExpr } from '../../verify/index.js';
import { shopSystem } from './order-system.js';

/** Every reachable state of the order system (N = 2, one dup, decline and cancel), as packed bytes. */
function reachable(model: SystemModel): Uint8Array[] {
  const store = new StateStore(model.width);
  const init = model.initial();
  store.intern(new Int32Array(init.buffer, 0, model.width / 4));
  const cur = new Uint8Array(model.width);
  const next = new Uint8Array(model.width);
  for (let id = 0; id < store.count; id++) {
    store.read(id, cur);
    successors(model, cur, next, (t) => store.intern(new Int32Array(t.slice().buffer)));
  }
  return Array.from({ length: store.count }, (_, id) => store.view(id).slice());
}

// Every operator of the formula language, over the order system's participants.
const reserved = (k: string) => P.isIn(P.local('inventory', k, 'status'), 'reserved', 'shipped');
const extra: Record<string, BoolExpr> = {
  countFinal: P.cmp(P.count('k', P.final('k')), '>=', P.num(1)),
  arithmetic: P.cmp(P.sub(P.mul(P.value(P.shared('inventory', 'SKU-1', 'available')), P.num(2)), P.sum('k', P.ite(reserved('k'), P.num(1), P.num(0)))), '>', P.num(0)),
  whereSum: P.cmp(P.sum('k', P.value(P.local('inventory', 'k', 'items', { where: { sku: 'SKU-1' } }, 'quantity'))), '!=', P.num(0)),
  quietOrCanceled: P.exists('k', P.or(P.and(P.quiet('k'), P.not(P.final('k'))), P.state('k', 'CANCELED'))),
  nested: P.forall('a', P.exists('b', P.implies(P.final('a'), P.and(P.state('b', 'CANCELED'), P.bool(true))))),
  fewer: P.cmp(P.value(P.local('payment', 'k', 'captures')), '<', P.num(1)),
};

describe('properties compiled over the raw state bytes (the checker) agree with the view evaluator (the reference)', () => {
  const def = shopSystem({ orders: 2 });
  const model = new SystemModel(def, { keys: 2, faults: { dup: 1, decline: 1, cancel: 1 } });
  const states = reachable(model);
  const view = new BoundView(model);
  const formulas: [string, BoolExpr][] = [
    ...def.invariants.filter(isDataInvariant).map((p): [string, BoolExpr] => [p.name, p.formula]),
    ...def.liveness.filter(isDataLiveness).flatMap((p): [string, BoolExpr][] => [[`${p.name}.pending`, p.pendingFormula], [`${p.name}.premise`, p.premiseFormula]]),
    ...Object.entries(extra).map(([name, f]): [string, BoolExpr] => [name, name === 'fewer' ? P.forall('k', f) : f]),
  ];
  const disagreements = (raw: BoolExpr, reference: BoolExpr) => {
    const r = compileRaw(model, raw);
    const v = compileFormula(reference);
    if (!r) throw new Error('not compiled');
    // Offsets too: the checker evaluates states in place in the store's arena.
    const arena = new Uint8Array(model.width * 2);
    return states.filter((s) => {
      arena.set(s, model.width);
      return r(arena, model.width) !== v(view.bind(s));
    }).length;
  };

  it(`agree on every reachable state (${String(states.length)} states), each formula both true and false somewhere`, () => {
    expect(states.length).toBeGreaterThan(1000);
    expect(formulas.length).toBeGreaterThanOrEqual(4 + 6 + 6);
    for (const [name, f] of formulas) {
      expect({ name, disagreements: disagreements(f, f) }).toEqual({ name, disagreements: 0 });
      const v = compileFormula(f);
      const truths = new Set(states.map((s) => v(view.bind(s))));
      if (!name.startsWith('EventuallyTerminates.premise') && !['StockConservation', 'AtMostOneCapture', 'NoUnpaidShipment', 'NoChargeWithoutRefund'].includes(name)) expect({ name, truths: truths.size }).toEqual({ name, truths: 2 });
    }
  });

  it('the comparison catches a wrong compilation (a mutant: the negated formula)', () => {
    for (const [, f] of formulas.slice(4, 10)) expect(disagreements(P.not(f), f)).toBeGreaterThan(0);
  });

  it('leaves a formula naming an unknown participant to the view evaluator (its error)', () => {
    expect(compileRaw(model, P.forall('k', P.isIn(P.local('nobody', 'k', 'status'), 'x')))).toBeUndefined();
  });
});
