/*
 * Many JSON documents as one parameter: a JSON array of them, unpacked in SQL as jsonb[].
 * As a text[] parameter each document was an element of an array literal, every `"` in it
 * escaped for the array and every backslash for SQL — a pass over kilobytes of JSON per
 * engine batch, in node to escape and in the server to unescape before parsing each one as
 * jsonb. A JSON array of the documents is their texts joined with commas: nothing to escape
 * but what the SQL literal itself needs (rare `'` and `\`), and the server parses it once.
 */

/** SQL for the jsonb[] of the documents in parameter `param` (e.g. `$4`), in their order. */
export function jsonbArraySql(param: string): string {
  return `ARRAY(SELECT d.e FROM jsonb_array_elements(${param}::text::jsonb) WITH ORDINALITY AS d(e, i) ORDER BY d.i)`;
}

/** The parameter for `jsonbArraySql`: JSON texts (each a whole JSON value, as JSON.stringify makes them) as one JSON array. */
export function jsonArrayText(documents: readonly string[]): string {
  return `[${documents.join(',')}]`;
}
