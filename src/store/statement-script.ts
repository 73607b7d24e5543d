import { createRequire } from 'node:module';
import type { Queryable, QueryResult, Statement } from './db.js';

/*
 * Several statements in one round trip. PostgreSQL's simple query protocol runs a script
 * of statements in one message, but takes no parameters; the extended protocol takes
 * parameters but one statement per round trip (node-postgres does not pipeline). A
 * script therefore carries each parameter inlined as a quoted literal: exactly the text
 * node-postgres would have sent for it (its own `prepareValue`), and, like that
 * parameter, of no declared type — a quoted literal is of type `unknown` too, resolved by
 * its context or its cast. Anything that cannot be inlined safely (a NUL character, which
 * would end the message; binary data; dollar quoting in the statement) makes the caller
 * send the statements one by one instead: same effect, more round trips.
 */

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (value: unknown) => unknown };

/** A quoted SQL literal of `text` (E'' form when it holds a backslash: right whatever standard_conforming_strings is). */
export function quoteLiteral(text: string): string {
  const body = text.replace(/'/g, "''");
  return text.includes('\\') ? ` E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/** A parameter as node-postgres's prepareValue + quoteLiteral make it (undefined when a literal cannot carry it): the way for everything `arrayLiteral` does not take, and its reference. */
export function slowLiteralOf(value: unknown): string | undefined {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  if (typeof prepared !== 'string' || prepared.includes('\0')) return undefined;
  return quoteLiteral(prepared);
}

/*
 * A flat array of strings, numbers, booleans and bigints (a batch's columns: ids, states,
 * versions; many JSON documents go as one JSON array instead, jsonb-array.ts) written directly: the array quoting node-postgres does (each element in
 * double quotes, `\` and `"` escaped by a backslash) and the SQL quoting after it (`'`
 * doubled, every backslash doubled in an E'' string when there is one) together, element by
 * element. The text is exactly what prepareValue + quoteLiteral give (statement-script.test.ts
 * checks it on arbitrary arrays); they went over the whole text four times, and the batch
 * scripts inline arrays of every saga they write. Anything else in the array (null aside), or
 * a NUL in an element: undefined, the slow way. The body is built by concatenation, which
 * V8 keeps as a rope until the script is written to the socket: one copy, not one per step.
 */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  let escaped = false;
  let body = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) body += ',';
    if (v === null || v === undefined) {
      body += 'NULL';
      continue;
    }
    let text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : undefined;
    // A NUL would end the message: the slow way refuses it too.
    if (text === undefined || text.includes('\0')) return undefined;
    // Replacements by constant strings, each only where its character occurs: a replacement
    // function called per match cost more than the four passes it replaced (JSON is full of ").
    if (text.includes('\\')) {
      text = text.replace(/\\/g, '\\\\\\\\');
      escaped = true;
    }
    if (text.includes('"')) {
      text = text.replace(/"/g, '\\\\"');
      escaped = true;
    }
    if (text.includes("'")) text = text.replace(/'/g, "''");
    body += `"${text}"`;
  }
  body += '}';
  return escaped ? ` E'${body}'` : `'${body}'`;
}

/** A parameter as a literal, or undefined when it cannot be one. */
function literalOf(value: unknown): string | undefined {
  return (Array.isArray(value) ? arrayLiteral(value) : undefined) ?? slowLiteralOf(value);
}

/** Every parameter as a literal, or undefined when one cannot be. */
function literalsOf(params: readonly unknown[]): string[] | undefined {
  const literals: string[] = [];
  for (const p of params) {
    const l = literalOf(p);
    if (l === undefined) return undefined;
    literals.push(l);
  }
  return literals;
}

/**
 * `sql` with `$n` replaced by its parameter as a literal, or undefined when that is not
 * safe. Placeholders inside quoted strings, quoted identifiers and comments are left as
 * they are; a statement with dollar quoting is not inlined at all.
 */
export function inlineParameters(sql: string, params: readonly unknown[] = []): string | undefined {
  if (sql.includes('\0')) return undefined;
  const literals = literalsOf(params);
  if (literals === undefined) return undefined;
  let safe = true;
  const out = sql.replace(SKIPPED_OR_PLACEHOLDER, (match: string, index: string | undefined) => {
    if (index === undefined) {
      if (match === '$' || match === '/*') safe = false; // dollar quoting, a comment never closed
      return match;
    }
    const literal = literals[Number(index) - 1];
    if (literal === undefined) safe = false; // a placeholder without its parameter: let the server say so
    return literal ?? match;
  });
  return safe ? out : undefined;
}

/**
 * What the scan stops at: an E'' string (backslash escapes), a quoted string or identifier
 * (a doubled quote inside), a line or block comment — all kept as they are — or a
 * placeholder `$n`; a lone `$` (dollar quoting) or `/*` (an open comment) makes it unsafe.
 */
const SKIPPED_OR_PLACEHOLDER = /\b[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$(\d+)|\$|\/\*/g;

/**
 * The statements as one script, or undefined when one of them cannot be inlined. A
 * statement `executeAs` names (prepared on the connection under that name, with SQL
 * PREPARE) is run as `EXECUTE name(literals…)`: parsed and planned once per connection,
 * not at every script.
 */
export function scriptOf(statements: readonly Statement[], executeAs?: (sql: string) => string | undefined): string | undefined {
  const parts: string[] = [];
  for (const s of statements) {
    const name = executeAs?.(s.sql);
    const inlined = name === undefined ? inlineParameters(withoutEnds(s.sql), s.params) : executeOf(name, s.params);
    if (inlined === undefined) return undefined;
    parts.push(inlined);
  }
  return concatenated(parts, ';\n');
}

/**
 * `parts.join(separator)` by concatenation: V8 keeps the result as a rope of the parts
 * (kilobytes of inlined JSON each) until it is written to the socket, instead of copying
 * them into a new string at every step of building a script.
 */
export function concatenated(parts: readonly string[], separator: string): string {
  let all = '';
  for (let i = 0; i < parts.length; i++) all = i === 0 ? (parts[i] as string) : `${all}${separator}${parts[i] as string}`;
  return all;
}

/** The statement without surrounding blanks and trailing semicolons (its text only: the parameters, possibly long, are inlined after). */
function withoutEnds(sql: string): string {
  return sql.trim().replace(/;+$/, '').trimEnd();
}

/** `EXECUTE name(…)` with the parameters as literals, or undefined when one cannot be. */
function executeOf(name: string, params: readonly unknown[] = []): string | undefined {
  const literals = literalsOf(params);
  if (literals === undefined) return undefined;
  return literals.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${concatenated(literals, ', ')})`;
}

/** Runs statements one after another through `q` (the way that always works). */
export async function runInTurn(q: Queryable, statements: readonly Statement[]): Promise<QueryResult<Record<string, unknown>>[]> {
  const results: QueryResult<Record<string, unknown>>[] = [];
  for (const s of statements) results.push(await q.query(s.sql, s.params));
  return results;
}

/** Runs statements through `q`'s `batch` when it has one, else one by one (then `commit` is left to the transaction). */
export function runStatements(q: Queryable, statements: readonly Statement[], options?: { readonly commit?: boolean }): Promise<QueryResult<Record<string, unknown>>[]> {
  return q.batch ? q.batch(statements, options) : runInTurn(q, statements);
}
