import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from './cursor.js';
import { InvalidQueryError } from './errors.js';

describe('page cursors', () => {
  it('round-trip the sort key', () => {
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00.000Z', 'o-1']), ['string', 'string'])).toEqual(['2026-01-01T00:00:00.000Z', 'o-1']);
  });

  it('refuse anything not made by encodeCursor with a clear error', () => {
    for (const bad of ['', 'not base64 !', encodeCursor(['only one']), encodeCursor([1, 'x']), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(() => decodeCursor(bad, ['string', 'string'])).toThrow(InvalidQueryError);
    }
  });

  it('keep a timestamp at PostgreSQL precision, and refuse one that is not a time', () => {
    expect(decodeTimeCursor(encodeTimeCursor('2026-03-01 10:00:00.123456+00', 'o-1'))).toEqual({ at: '2026-03-01 10:00:00.123456+00', id: 'o-1' });
    expect(decodeTimeCursor(encodeCursor(['2026-01-01T00:00:00.000Z', 'o-1']))).toEqual({ at: '2026-01-01T00:00:00.000Z', id: 'o-1' }); // older cursors still work
    for (const bad of [encodeCursor(['yesterday', 'o-1']), encodeCursor(['2026-01-01', 2]), 'garbage']) {
      expect(() => decodeTimeCursor(bad)).toThrow(InvalidQueryError);
    }
  });
});
