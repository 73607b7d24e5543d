/** Anything that can run one SQL statement: a pool, a PGlite instance, or an open transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * Runs a script of several statements without parameters (migrations). Optional so that
   * wrappers of a Queryable stay valid; both engines provide it.
   */
  exec?(sql: string): Promise<void>;
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
  close(): Promise<void>;
}
