import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayLiteral, inlineParameters, quoteLiteral, scriptOf, slowLiteralOf } from './statement-script.js';

describe('inlining parameters as literals', () => {
  it('replaces each placeholder by its parameter, $10 as the tenth, never inside quotes or comments', () => {
    const params = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);
    expect(inlineParameters(`SELECT $1, $10, '$2', "$3", E'\\'$4', $2 -- $5\n/* $6 */ , $3`, params)).toBe(`SELECT 'p1', 'p10', '$2', "$3", E'\\'$4', 'p2' -- $5\n/* $6 */ , 'p3'`);
  });

  it('quotes what needs quoting: quotes doubled, backslashes in an E string', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(inlineParameters('SELECT $1, $2, $3', [null, 5, true])).toBe("SELECT NULL, '5', 'true'");
  });

  it('sends arrays and objects as node-postgres would (array literal, JSON)', () => {
    expect(inlineParameters('SELECT $1::text[], $2::jsonb', [['a', null, 'b"c'], { k: "v'" }])).toBe(`SELECT '{"a",NULL,"b\\"c"}'::text[], '{"k":"v''"}'::jsonb`.replace(`'{"a",NULL,"b\\"c"}'`, ` E'{"a",NULL,"b\\\\"c"}'`));
  });

  it('writes a flat array in one pass exactly as node-postgres + quoting would, whatever its elements (one holding a NUL is refused, as the slow way refuses it)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '"', "'", '\\', '{', '}', ',', ' ', 'NULL', '\n', '😀') });
    const element = fc.oneof(text, fc.string({ unit: 'binary' }), fc.constant(null), fc.constant(undefined), fc.integer(), fc.double(), fc.boolean(), fc.bigInt());
    fc.assert(
      fc.property(fc.array(element, { maxLength: 8 }), (values) => {
        expect(arrayLiteral(values)).toBe(slowLiteralOf(values));
      }),
      { numRuns: 2000 },
    );
    // What it does not take goes the slow way: nested arrays, objects, dates, binary data.
    expect(arrayLiteral([['a']])).toBeUndefined();
    expect(arrayLiteral([{ a: 1 }])).toBeUndefined();
    expect(arrayLiteral([new Date(0)])).toBeUndefined();
    expect(arrayLiteral([Buffer.from('x')])).toBeUndefined();
    expect(inlineParameters('SELECT $1::text[]', [['a', 'b\u0000']])).toBeUndefined();
    expect(inlineParameters('SELECT $1::text[], $2::jsonb[]', [[['x']], [{ a: "'" }]])).toBe(`SELECT ${slowLiteralOf([['x']])}::text[], ${slowLiteralOf([{ a: "'" }])}::jsonb[]`);
  });

  it('refuses what a literal cannot carry: a NUL, binary data, dollar quoting, a missing parameter, an open comment', () => {
    expect(inlineParameters('SELECT $1', ['a\u0000b'])).toBeUndefined();
    expect(inlineParameters('SELECT $1', [Buffer.from('x')])).toBeUndefined();
    expect(inlineParameters('DO $$ BEGIN END $$', [])).toBeUndefined();
    expect(inlineParameters('SELECT $2', ['only one'])).toBeUndefined();
    expect(inlineParameters('SELECT 1 /* never closed', [])).toBeUndefined();
    expect(scriptOf([{ sql: 'SELECT 1' }, { sql: 'SELECT $1', params: ['\u0000'] }])).toBeUndefined();
  });

  it('joins statements into one script', () => {
    expect(scriptOf([{ sql: 'SELECT 1;' }, { sql: ' SELECT $1 ', params: ['x'] }])).toBe("SELECT 1;\nSELECT 'x'");
  });
});
