import { describe, expect, it } from 'vitest';
import { UpcastError } from './errors.js';
import { createUpcasters } from './upcasters.js';

const upcasters = createUpcasters([
  // v1 stored the amount as a decimal string of euros; v2 as integer cents; v3 adds a currency.
  { type: 'Deposited', from: 2, upcast: (d) => ({ ...(d as object), currency: 'EUR' }) },
  { type: 'Deposited', from: 1, upcast: (d) => ({ cents: Math.round(Number((d as { amount: string }).amount) * 100) }) },
]);
const msg = (data: unknown, metadata: Record<string, unknown> = {}) => ({ type: 'Deposited', data, metadata });

describe('upcasters', () => {
  it('reads an event stored as v1 as the current version through the whole chain', () => {
    expect(upcasters.currentVersion('Deposited')).toBe(3);
    expect(upcasters.upcast(msg({ amount: '12.50' }))).toEqual(msg({ cents: 1250, currency: 'EUR' }, { schemaVersion: 3 }));
    expect(upcasters.upcast(msg({ cents: 5 }, { schemaVersion: 2 })).data).toEqual({ cents: 5, currency: 'EUR' });
  });

  it('leaves current and unknown types untouched', () => {
    const current = msg({ cents: 5, currency: 'EUR' }, { schemaVersion: 3 });
    expect(upcasters.upcast(current)).toBe(current);
    expect(upcasters.currentVersion('Other')).toBe(1);
  });

  it('refuses a chain with a gap or a duplicate at creation, and a version newer than the code', () => {
    expect(() => createUpcasters([{ type: 'X', from: 2, upcast: (d) => d }])).toThrow(UpcastError);
    expect(() => createUpcasters([{ type: 'X', from: 1, upcast: (d) => d }, { type: 'X', from: 1, upcast: (d) => d }])).toThrow(/same version/);
    expect(() => upcasters.upcast(msg({}, { schemaVersion: 4 }))).toThrow(/newer version/);
  });

  it('reports an upcaster that throws with the type and version', () => {
    const bad = createUpcasters([{ type: 'X', from: 1, upcast: () => { throw new Error('boom'); } }]);
    expect(() => bad.upcast({ type: 'X', data: {}, metadata: {} })).toThrow(expect.objectContaining({ code: 'UPCAST_FAILED', fromVersion: 1 }) as Error);
  });
});
