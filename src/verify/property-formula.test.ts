import { describe, expect, it } from 'vitest';
import { ModelOptionsError } from './errors.js';
import { compileFormula, dataInvariant } from './property-eval.js';
import { describeFormula, P, perKeyBody } from './property-formula.js';
import { monitorProperties, type LiveKey, type LiveSnapshot } from './property-monitor.js';

// A system with one participant "store" holding per key a basket and sharing a counter.
const key = (id: string, state: string, basket: unknown, quiet = true): LiveKey => ({ id, state, final: state === 'DONE', quiet, locals: { store: basket } });
const snap = (keys: readonly LiveKey[], left: number, incomplete?: string): LiveSnapshot => ({ keys, shared: { store: { left } }, ...(incomplete ? { incomplete } : {}) });
const basket = (status: string, qty: number, captures = 0) => ({ status, lines: [{ sku: 'A', qty }, { sku: 'B', qty: 100 }], captures });

const held = P.sum('k', P.ite(P.isIn(P.local('store', 'k', 'status'), 'held', 'sent'), P.value(P.local('store', 'k', 'lines', { where: { sku: 'A' } }, 'qty')), P.num(0)));
const conservation = dataInvariant('Conservation', 'left + held = 10', P.cmp(P.add(P.value(P.shared('store', 'left')), held), '==', P.num(10)));
const once = dataInvariant('AtMostOnce', 'captured at most once', P.forall('k', P.cmp(P.value(P.local('store', 'k', 'captures')), '<=', P.num(1))));
const doneHeld = dataInvariant('DoneIsSent', 'a DONE key is sent', P.forall('k', P.implies(P.state('k', 'DONE'), P.isIn(P.local('store', 'k', 'status'), 'sent'))));

describe('properties as data: the TypeScript evaluator', () => {
  const view = (s: LiveSnapshot) => ({
    keys: s.keys.length,
    state: (i: number) => s.keys[i]?.state ?? '?',
    final: (i: number) => s.keys[i]?.final ?? false,
    local: <L>(p: string, i: number) => s.keys[i]?.locals[p] as L,
    shared: <G>(p: string) => s.shared[p] as G,
    quiet: (i: number) => s.keys[i]?.quiet ?? false,
    version: () => 1,
  });

  it('sums over keys through a path with an array lookup; a missing local state counts 0 and matches no value', () => {
    const s = snap([key('a', 'DONE', basket('sent', 3)), key('b', 'OPEN', basket('held', 2)), key('c', 'OPEN', undefined)], 5);
    expect(conservation.holds(view(s))).toBe(true);
    expect(conservation.holds(view(snap(s.keys, 6)))).toBe(false);
    expect(compileFormula(P.exists('k', P.isIn(P.local('store', 'k', 'status'), 'held')))(view(s))).toBe(true);
    expect(compileFormula(P.forall('k', P.isIn(P.local('store', 'k', 'status'), 'held', 'sent')))(view(s))).toBe(false);
    expect(compileFormula(P.cmp(P.count('k', P.final('k')), '==', P.num(1)))(view(s))).toBe(true);
    // Two lines of the same SKU: `where` reads both, and the number is their sum.
    const twice = snap([key('a', 'OPEN', { status: 'held', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 9 }, { sku: 'A', qty: 3 }], captures: 0 })], 5);
    expect(conservation.holds(view(twice))).toBe(true);
  });

  it('per-key formulas, implications and comparisons fail where they should', () => {
    const ok = snap([key('a', 'DONE', basket('sent', 1, 1)), key('b', 'OPEN', basket('held', 1, 0))], 8);
    expect([once, doneHeld].map((p) => p.holds(view(ok)))).toEqual([true, true]);
    const bad = snap([key('a', 'DONE', basket('held', 1, 2))], 9);
    expect([once, doneHeld].map((p) => p.holds(view(bad)))).toEqual([false, false]);
  });

  it('rejects a key no quantifier binds, and a field that is not a number, with clear errors', () => {
    expect(() => compileFormula(P.final('k'))).toThrow(ModelOptionsError);
    expect(() => compileFormula(P.final('k'))).toThrow(/key "k" is not bound by a quantifier/);
    const f = compileFormula(P.forall('k', P.cmp(P.value(P.local('store', 'k', 'status')), '>', P.num(0))));
    expect(() => f(view(snap([key('a', 'DONE', basket('sent', 1))], 9)))).toThrow(/property field store.status is not a number: "sent"/);
  });

  it('reads as a formula, and knows which properties can be judged one key at a time', () => {
    expect(describeFormula(once.formula)).toBe('forall k: store[k].captures <= 1');
    expect(describeFormula(conservation.formula)).toBe('(store.left + sum k: (if store[k].status in {held, sent} then store[k].lines[sku=A].qty else 0)) == 10');
    expect(perKeyBody(once.formula)?.key).toBe('k');
    expect(perKeyBody(conservation.formula)).toBeUndefined();
    expect(perKeyBody(P.forall('k', P.cmp(P.value(P.shared('store', 'left')), '>', P.num(0))))).toBeUndefined();
  });
});

describe('the monitor over a live snapshot', () => {
  const fn = { name: 'Fn', description: 'a TypeScript function', holds: () => false };

  it('judges per-key properties on quiet keys only, naming each broken key', () => {
    const s = snap([key('a', 'DONE', basket('held', 1, 2)), key('b', 'OPEN', basket('held', 1, 5), false), key('c', 'DONE', basket('sent', 1, 3))], 9);
    const r = monitorProperties([once], s);
    expect(r.findings.map((f) => [f.property, f.scope, f.subject])).toEqual([
      ['AtMostOnce', 'key', 'a'],
      ['AtMostOnce', 'key', 'c'],
    ]);
    expect(r.reports).toEqual([{ property: 'AtMostOnce', scope: 'key', evaluated: 2, violations: 2 }]);
  });

  it('judges system-wide properties (and functions) only when every key is quiet and the snapshot complete', () => {
    const quiet = snap([key('a', 'DONE', basket('sent', 3))], 6);
    expect(monitorProperties([conservation, fn], quiet).findings.map((f) => `${f.property} ${f.scope}`)).toEqual(['Conservation system', 'Fn system']);
    const moving = snap([...quiet.keys, key('b', 'OPEN', basket('held', 1), false)], 6);
    expect(monitorProperties([conservation, fn], moving).reports.map((x) => x.skipped)).toEqual(['1 key(s) in flight', '1 key(s) in flight']);
    expect(monitorProperties([conservation], snap(quiet.keys, 6, 'rows of unknown keys')).reports[0]?.skipped).toBe('rows of unknown keys');
    expect(monitorProperties([conservation], snap(quiet.keys, 7)).findings).toEqual([]);
  });
});
