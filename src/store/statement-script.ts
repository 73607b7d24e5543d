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

/** A parameter as a literal, or undefined when it cannot be one. */
function literalOf(value: unknown): string | undefined {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  if (typeof prepared !== 'string' || prepared.includes('\0')) return undefined;
  return quoteLiteral(prepared);
}

/**
 * `sql` with `$n` replaced by its parameter as a literal, or undefined when that is not
 * safe. Placeholders inside quoted strings, quoted identifiers and comments are left as
 * they are; a statement with dollar quoting is not inlined at all.
 */
export function inlineParameters(sql: string, params: readonly unknown[] = []): string | undefined {
  if (sql.includes('\0')) return undefined;
  const literals: string[] = [];
  for (const p of params) {
    const l = literalOf(p);
    if (l === undefined) return undefined;
    literals.push(l);
  }
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      // A quoted string or identifier runs to the closing quote (a doubled quote is an escaped one).
      const escapes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1] ?? '');
      let j = i + 1;
      for (; j < n; j++) {
        if (escapes && sql[j] === '\\') j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? n : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) return undefined;
      out += sql.slice(i, end + 2);
      i = end + 2;
    } else if (c === '$') {
      const m = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (!m) return undefined; // dollar quoting ($$ or $tag$): not inlined
      const index = Number(m[1]) - 1;
      const literal = literals[index];
      if (literal === undefined) return undefined; // a placeholder without its parameter: let the server say so
      out += literal;
      i += m[0].length;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The statements as one script, or undefined when one of them cannot be inlined. */
export function scriptOf(statements: readonly Statement[]): string | undefined {
  const parts: string[] = [];
  for (const s of statements) {
    const inlined = inlineParameters(s.sql, s.params);
    if (inlined === undefined) return undefined;
    parts.push(inlined.trim().replace(/;+$/, ''));
  }
  return parts.join(';\n');
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
