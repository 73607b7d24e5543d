import { createRequire } from 'node:module';
import { describe, expect, it, beforeAll } from 'vitest';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { dataInvariant, isDataInvariant, isDataLiveness, P, toPromela, toTla, type SystemDefinition } from '../../verify/index.js';
import { shopSystem } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };

let parser: Parser;
beforeAll(async () => {
  // The official TLA+ grammar, compiled to WebAssembly and shipped in its npm package.
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve('@tlaplus/tree-sitter-tlaplus/tree-sitter-tlaplus.wasm');
  parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
});

function problems(source: string): string[] {
  const tree = parser.parse(source);
  if (!tree) return ['no tree'];
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.isError || n.isMissing) out.push(`${n.isMissing ? 'MISSING' : 'ERROR'} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.text.slice(0, 60)}`);
    for (const c of n.children) if (c) walk(c);
  };
  walk(tree.rootNode);
  return out;
}

describe('TLA+ export', () => {
  it('the grammar does flag broken TLA+ (so a clean parse means something)', () => {
    expect(problems('---- MODULE M ----\nSpec == [](x\' # x =>\n====\n').length).toBeGreaterThan(0);
  });

  it.each([
    [1, {}],
    [2, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
    [3, { loss: 1, reorder: 1, crash: 1, provider: 1, shipfail: 1 }],
    [2, { relaycrash: 1, cancel: 1, timeout: 1 }],
  ])('is a legal module for N = %i, faults %j: no ERROR or MISSING nodes', (orders, faults) => {
    const { module: tla, cfg } = toTla(shopSystem({ orders, context }), { keys: orders, faults: faults });
    expect(problems(tla)).toEqual([]);
    expect(tla).toMatch(/^Spec ==\n {2}\/\\ Init \/\\ \[\]\[Next\]_vars$/m);
    for (const actor of ['Orders', 'Inventory', 'Payment', 'Shipping', 'Carrier', 'Operator', 'Timer']) expect(tla).toContain(`WF_vars(${actor}Actor)`);
    expect(tla).not.toContain('WF_vars(CustomerActor)');
    expect(tla).toContain('ValidStateTransitions == [][');
    expect(tla).toContain('EventuallyTerminates ==');
    // The participants' tables come from their deciders: the payment's decline is a row of its table.
    if ('decline' in faults) expect(tla).toMatch(/<<0, 0, 1, "decline", /);
    expect(cfg).toContain('SPECIFICATION Spec');
    expect([tla.includes('NoStrandedMessages == '), cfg.includes('INVARIANT NoStrandedMessages')]).toEqual([true, true]);
    // Parked replies are retried from a table the exploration filled (the dup run parks some).
    if ('dup' in faults) expect(tla).toMatch(/^Retry == \{\n {2}<<\d+, \d+, <<\d/m);
    expect(cfg).toContain('PROPERTY EventuallyTerminates');
    // The seed's illegal form must not appear: no primed variable directly under [].
    expect(tla).not.toMatch(/\[\]\([^)]*'/);
  });

  it('carries every data property as a formula: invariants under INVARIANT, liveness with its pending formula under PROPERTY', () => {
    const def = shopSystem({ orders: 2, context });
    const { module: tla, cfg } = toTla(def, { keys: 2, faults: { dup: 1, cancel: 1 } });
    expect(problems(tla)).toEqual([]);
    expect(def.invariants.every(isDataInvariant) && def.liveness.every(isDataLiveness)).toBe(true);
    for (const p of def.invariants) {
      expect(tla).toMatch(new RegExp(`^${p.name} == \\(.+\\)$`, 'm'));
      expect(cfg).toContain(`INVARIANT ${p.name}\n`);
      expect(tla).toContain(`THEOREM Spec => []${p.name}`);
    }
    for (const p of def.liveness) {
      expect(tla).toMatch(new RegExp(`^${p.name}Pending == \\(.+\\)$`, 'm'));
      expect(tla).toContain(`${p.name} == [](${p.name}Pending => <>~${p.name}Pending)`);
      expect(cfg).toContain(`PROPERTY ${p.name}\n`);
    }
    // Formulas are over the module's variables: per-key quantifiers are TLA+'s own, the machine state a set of its codes.
    expect(tla).toMatch(/^AtMostOneCapture == \(\\A k0 \\in Keys : /m);
    expect(tla).toMatch(/^NoChargeWithoutRefund == .*~Quiet\(k0\).*o\[k0\] \\in \{/m);
    expect(tla).toContain('every property of the definition is exported');
  });

  it('names a property written only as a function as not exported, in both exports, and lists it nowhere as checked', () => {
    const base = shopSystem({ orders: 1, context });
    const def: SystemDefinition = {
      ...base,
      invariants: [...base.invariants, { name: 'OnlyAFunction', description: 'written in TypeScript', holds: () => true }],
      liveness: [...base.liveness, { name: 'AlsoAFunction', description: 'written in TypeScript', pending: () => false, premise: () => true }],
    };
    const { module: tla, cfg } = toTla(def, { keys: 1 });
    expect(problems(tla)).toEqual([]);
    expect(tla).toContain('not exported (written as TypeScript functions, not as data; only `ordo verify` checks them): OnlyAFunction, AlsoAFunction');
    expect(cfg).not.toMatch(/OnlyAFunction|AlsoAFunction/);
    expect(tla).not.toMatch(/^(OnlyAFunction|AlsoAFunction) ==/m);
    const pml = toPromela(def, { keys: 1 });
    expect(pml).toContain('not exported (written as TypeScript functions, not as data; only `ordo verify` checks them): OnlyAFunction, AlsoAFunction');
    expect(pml).not.toMatch(/ltl (OnlyAFunction|AlsoAFunction)/);
    expect(pml).toContain('ltl StockConservation { [] inv_StockConservation }');
  });

  it('gives every quantifier a fresh bound name (TLA+ forbids shadowing), also inside an unrolled sum', () => {
    const base = shopSystem({ orders: 2, context });
    const nested = P.forall('k', P.cmp(P.sum('j', P.ite(P.exists('k', P.final('k')), P.num(1), P.num(0))), '>=', P.count('k', P.forall('k', P.quiet('k')))));
    const { module: tla } = toTla({ ...base, invariants: [dataInvariant('Nested', 'shadowing names', nested)] }, { keys: 2 });
    expect(problems(tla)).toEqual([]);
    const line = /^Nested == (.*)$/m.exec(tla)?.[1] ?? '';
    const bound = [...line.matchAll(/\\[AE] (\w+) \\in Keys/g)].map((m) => m[1]);
    expect(bound.length).toBeGreaterThan(4);
    expect(new Set(bound).size).toBe(bound.length);
  });
});
