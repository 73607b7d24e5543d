import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';
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
});
