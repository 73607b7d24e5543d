import { createRequire } from 'node:module';
import { describe, expect, it, beforeAll } from 'vitest';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { toTla } from '../../verify/index.js';
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
});
