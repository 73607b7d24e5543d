import type { PGliteInterface } from '@electric-sql/pglite';
import { noticingAppends, settledAfterCommit } from './commit-wakeup.js';
import type { Queryable, QueryResult, Statement } from './db.js';
import { preparedName } from './prepared.js';
import { forgetStalePrepared, GENERIC_PLANS, PLANS_AS_BEFORE, prepareForScript, type ScriptConnection } from './script-prepared.js';
import { runInTurn, scriptOf } from './statement-script.js';

/** One statement on PGlite (an instance or a transaction), as the store's QueryResult. */
async function pgliteQuery<R extends object>(db: Pick<PGliteInterface, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const r = await db.query<R>(sql, params as unknown[] | undefined);
  return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
}

/** Where PGlite keeps its PREPAREd statements: its session, and the end of their names. */
export interface PgliteSession {
  readonly session: ScriptConnection;
  readonly suffix: string;
}

/** PGlite's one session, its PREPAREd names ending in `suffix` (one per schema where several share it). */
export function pgliteSession(pglite: Pick<PGliteInterface, 'exec'>, suffix: string): PgliteSession {
  return { session: { query: (sql) => pglite.exec(sql) }, suffix };
}

/**
 * `fn` in a PGlite transaction, its statements and batches through the session's PREPAREd
 * ones; a stale PREPARE is forgotten once the transaction has rolled back. The outcome comes
 * back settled (settledAfterCommit) with whether `fn` appended to the log: the caller wakes
 * the log's readers, then unsettles it.
 */
export async function pgliteTransaction<T>(
  pglite: Pick<PGliteInterface, 'transaction'>,
  at: PgliteSession,
  fn: (tx: Queryable) => Promise<T>,
): Promise<{ readonly settled: { readonly value: T } | { readonly error: unknown }; readonly appended: boolean }> {
  let appended = () => false;
  try {
    const settled = await pglite.transaction((t) => {
      const noticed = noticingAppends({ query: (sql, params) => pgliteStatement(t, at, true, sql, params), exec: async (sql) => void (await t.exec(sql)), batch: (statements) => pgliteBatch(t, at, statements) });
      appended = noticed.appended;
      return settledAfterCommit(noticed.committed, () => fn(noticed.tx));
    });
    return { settled, appended: appended() };
  } catch (err) {
    await forgetStalePrepared(at.session, err);
    throw err;
  }
}

/**
 * One statement on PGlite; a marked one (prepared.ts) as `EXECUTE` of its PREPARE in the
 * session (the plan cache as the server's protocol-level prepared statements have it:
 * PostgreSQL's own choice between custom and generic plans). The log reads of every relay
 * and projector round are marked: planned at every read they were the embedded shop's most
 * costly statements. Outside a transaction a stale PREPARE (a migration changed a returned
 * type) is forgotten at once; inside one, when the transaction has rolled back.
 */
export async function pgliteStatement<R extends object>(t: Pick<PGliteInterface, 'query' | 'exec'>, at: PgliteSession, inTransaction: boolean, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  if (preparedName(sql) === undefined) return pgliteQuery<R>(t, sql, params);
  const executeAs = await prepareForScript({ query: (text) => t.exec(text) }, [{ sql, params: params ?? [] }], inTransaction, at.session, at.suffix);
  const script = executeAs(sql) === undefined ? undefined : scriptOf([{ sql, params: params ?? [] }], executeAs);
  if (script === undefined) return pgliteQuery<R>(t, sql, params);
  try {
    const [r] = await t.exec(script);
    return { rows: (r?.rows ?? []) as R[], rowCount: r?.rowCount ?? r?.rows.length ?? 0 };
  } catch (err) {
    if (!inTransaction) await forgetStalePrepared(at.session, err);
    throw err;
  }
}

/*
 * A batch in a PGlite transaction: one script (`exec`, the simple protocol) instead of a
 * query per statement, and the marked statements (prepared.ts) PREPAREd once in PGlite's one
 * session and run as `EXECUTE name(literals…)` under their generic plan, as on a server
 * connection (script-prepared.ts). PGlite is PostgreSQL compiled to WASM in this process: a
 * query per statement parsed and planned it again each time, and parsed every protocol
 * message in JavaScript — most of the embedded shop's CPU. `commit` needs nothing here: the
 * transaction commits when its function returns, and the caller runs nothing after.
 * The session's `suffix` ends the PREPAREd names: one per schema where several share PGlite's
 * session (pglite-shared.ts), whose statements of the same text read different tables.
 */
async function pgliteBatch(t: Pick<PGliteInterface, 'query' | 'exec'>, { session, suffix }: PgliteSession, statements: readonly Statement[]): Promise<QueryResult<Record<string, unknown>>[]> {
  const executeAs = await prepareForScript({ query: (sql) => t.exec(sql) }, statements, true, session, suffix);
  const script = scriptOf(statements, executeAs);
  if (script === undefined) return runInTurn({ query: (sql, params) => pgliteQuery(t, sql, params) }, statements);
  const generic = statements.some((s) => executeAs(s.sql) !== undefined);
  const text = generic ? `${GENERIC_PLANS};\n${script};\n${PLANS_AS_BEFORE}` : script;
  const results = await t.exec(text);
  return results.slice(generic ? 1 : 0, (generic ? 1 : 0) + statements.length).map((r) => ({ rows: r.rows, rowCount: r.rowCount ?? r.rows.length }));
}

