/** Anything that can run one SQL statement: a pool, a PGlite instance, or an open transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * Runs a script of several statements without parameters (migrations). Optional so that
   * wrappers of a Queryable stay valid; both engines provide it.
   */
  exec?(sql: string): Promise<void>;
  /**
   * Runs the statements in order, stopping at the first error, and returns each one's
   * result — on a server in one round trip when it can (statement-script.ts), else one by
   * one. `commit: true` (a transaction's last call) also commits the transaction in that
   * round trip: the statements' results come back committed, so a check that must be able
   * to undo them belongs in the SQL (raise an error), not in the caller. Optional like
   * `exec`; `runStatements` works with any Queryable.
   */
  batch?(statements: readonly Statement[], options?: { readonly commit?: boolean }): Promise<QueryResult<Record<string, unknown>>[]>;
}

/** One statement and its parameters. */
export interface Statement {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

/** A statement and how to read its result (to run it alone, or in a batch with others). */
export interface ReadingStatement<T> {
  readonly statement: Statement;
  readonly read: (result: QueryResult<Record<string, unknown>>) => T;
}

export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export type Engine = 'postgres' | 'pglite';

/**
 * One service's database, on either engine, speaking one SQL dialect (PostgreSQL).
 * `transaction` commits when `fn` resolves and rolls back when it throws.
 */
export interface Db extends Queryable {
  readonly engine: Engine;
  /** Where it lives, for logs: a redacted URL or a data directory. */
  readonly describe: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` in this database (LISTEN), until the
   * returned function is called. Best effort: a lost connection is re-established, and
   * notifications sent meanwhile are lost, so a listener still polls now and then.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /**
   * True when this Db calls its own log-channel listeners itself as soon as a commit that
   * appended through it returns (before its promise settles), instead of leaving it to the
   * NOTIFY coming back: a reader listening on it needs no separate wake-up for those commits.
   */
  readonly wakesOwnListeners?: boolean;
  close(): Promise<void>;
}
