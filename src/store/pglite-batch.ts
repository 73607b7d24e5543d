import type { PGliteInterface } from '@electric-sql/pglite';
import type { QueryResult, Statement } from './db.js';
import { GENERIC_PLANS, PLANS_AS_BEFORE, prepareForScript, type ScriptConnection } from './script-prepared.js';
import { runInTurn, scriptOf } from './statement-script.js';

/** One statement on PGlite (an instance or a transaction), as the store's QueryResult. */
export async function pgliteQuery<R extends object>(db: Pick<PGliteInterface, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const r = await db.query<R>(sql, params as unknown[] | undefined);
  return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
}

/*
 * A batch in a PGlite transaction: one script (`exec`, the simple protocol) instead of a
 * query per statement, and the marked statements (prepared.ts) PREPAREd once in PGlite's one
 * session and run as `EXECUTE name(literals…)` under their generic plan, as on a server
 * connection (script-prepared.ts). PGlite is PostgreSQL compiled to WASM in this process: a
 * query per statement parsed and planned it again each time, and parsed every protocol
 * message in JavaScript — most of the embedded shop's CPU. `commit` needs nothing here: the
 * transaction commits when its function returns, and the caller runs nothing after.
 * `suffix` ends the PREPAREd names: one per schema where several share PGlite's session
 * (pglite-shared.ts), whose statements of the same text read different tables.
 */
export async function pgliteBatch(t: Pick<PGliteInterface, 'query' | 'exec'>, session: ScriptConnection, statements: readonly Statement[], suffix = '_s'): Promise<QueryResult<Record<string, unknown>>[]> {
  const executeAs = await prepareForScript({ query: (sql) => t.exec(sql) }, statements, true, session, suffix);
  const script = scriptOf(statements, executeAs);
  if (script === undefined) return runInTurn({ query: (sql, params) => pgliteQuery(t, sql, params) }, statements);
  const generic = statements.some((s) => executeAs(s.sql) !== undefined);
  const text = generic ? `${GENERIC_PLANS};\n${script};\n${PLANS_AS_BEFORE}` : script;
  const results = await t.exec(text);
  return results.slice(generic ? 1 : 0, (generic ? 1 : 0) + statements.length).map((r) => ({ rows: r.rows, rowCount: r.rowCount ?? r.rows.length }));
}

