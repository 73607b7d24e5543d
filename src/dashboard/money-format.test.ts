import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The page's own module (plain browser JavaScript, no DOM needed for this function).
const domModule: string = './assets/dom.js';
const { money } = (await import(domModule)) as { money: (cents: unknown) => string };

const exact = (cents: number) => {
  const b = BigInt(cents);
  const abs = b < 0n ? -b : b;
  return `${b < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

describe('the dashboard prints amounts exactly', () => {
  it('for every whole number of cents up to 2^53 − 1', () => {
    expect(money(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
    expect(money(9006303919461685)).toBe('90063039194616.85');
    expect(money(5)).toBe('0.05');
    expect(money(-150)).toBe('-1.50');
    fc.assert(fc.property(fc.maxSafeInteger(), (c) => money(c) === exact(c)), { numRuns: 2000 });
  });
  it('and prints nothing for what is not an amount', () => {
    for (const x of [undefined, null, '12', 1.5, 2 ** 53]) expect(money(x)).toBe('');
  });
});
