import { InvalidQueryError } from './errors.js';

/**
 * An opaque page cursor: base64url of the sort key of the last row returned. Readers
 * must not build or parse it; its shape may change.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key in a cursor, checked against the expected kinds of its parts. */
export function decodeCursor(cursor: string, kinds: readonly ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidQueryError('cursor', 'is not a cursor returned by this API');
  }
  if (!Array.isArray(key) || key.length !== kinds.length || key.some((v, i) => typeof v !== kinds[i])) {
    throw new InvalidQueryError('cursor', 'is not a cursor returned by this API');
  }
  return key as (string | number)[];
}

/**
 * A cursor for pages ordered by (timestamp, id), newest first. Give it the timestamp as
 * PostgreSQL prints it (`created_at::text`, microseconds), not a JS Date: a Date keeps
 * milliseconds only, and rows later within that millisecond would be skipped by the next page.
 */
export function encodeTimeCursor(at: string, id: string): string {
  return encodeCursor([at, id]);
}

/** The (timestamp, id) in a cursor made by encodeTimeCursor; compare it with `$n::timestamptz`. */
export function decodeTimeCursor(cursor: string): { readonly at: string; readonly id: string } {
  const [at, id] = decodeCursor(cursor, ['string', 'string']) as [string, string];
  if (Number.isNaN(Date.parse(at))) throw new InvalidQueryError('cursor', 'is not a cursor returned by this API');
  return { at, id };
}
