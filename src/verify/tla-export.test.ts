import { createRequire } from 'node:module';
import { describe, expect, it, beforeAll } from 'vitest';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { orderMachine, ORDER_EXTENSIONS, SEED_TRANSITIONS } from '../shop/index.js';
import { toTla } from './tla-export.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const allowed: Record<string, string[]> = Object.fromEntries(Object.entries(SEED_TRANSITIONS).map(([f, ts]) => [f, [...ts]]));
for (const e of ORDER_EXTENSIONS) (allowed[e.from] ??= []).push(e.to);

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
    const tla = toTla({ machine: orderMachine, context, orders, faults, allowedTransitions: allowed });
    expect(problems(tla)).toEqual([]);
    expect(tla).toMatch(/^Spec ==\n {2}\/\\ Init \/\\ \[\]\[Next\]_vars$/m);
    for (const actor of ['Orders', 'Inventory', 'Payment', 'Shipping', 'Carrier', 'Operator', 'Timer']) expect(tla).toContain(`WF_vars(${actor}Actor)`);
    expect(tla).toContain('ValidStateTransitions == [][');
    for (const p of ['EventuallyTerminates ==', 'CompensationWorks ==', 'InventoryConsistency ==', 'StockConservation ==']) expect(tla).toContain(p);
    // The seed's illegal form must not appear: no primed variable directly under [].
    expect(tla).not.toMatch(/\[\]\([^)]*'/);
  });
});
