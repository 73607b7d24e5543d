import { appendToStream, appendToStreamsStatement, runStatements, type NewMessage, type Queryable, type QueryResult, type Statement } from '../store/index.js';

/**
 * A transaction whose writes wait: a statement nobody reads the result of (an UPDATE, an
 * INSERT, an append whose checks are in its SQL) is staged, and goes to the server with the
 * next read or with the COMMIT, in the same round trip (the store's `runStatements`, one
 * script on a server). Statements still run in the order they were given, so every read
 * sees every write staged before it: a handler reads what it changed, and a batch-mate
 * sees its predecessors' rows, exactly as with a round trip per statement.
 */
export interface StagedTx extends Queryable {
  /**
   * Queues `statement`. Its result, once it ran, goes to `onResult`; an error in it fails
   * the read or the commit it went with (so the transaction), like any statement's.
   */
  stage(statement: Statement, onResult?: (result: QueryResult<Record<string, unknown>>) => void): void;
  /** Runs what is queued now; with `commit`, the COMMIT goes with it (the transaction takes nothing after). */
  flush(options?: { readonly commit?: boolean }): Promise<void>;
  batch(statements: readonly Statement[], options?: { readonly commit?: boolean }): Promise<QueryResult<Record<string, unknown>>[]>;
  /** Statements queued and not yet sent. */
  readonly pending: number;
}

interface Staged {
  readonly statement: Statement;
  readonly onResult: ((result: QueryResult<Record<string, unknown>>) => void) | undefined;
}

/** Stages writes on `tx` (a transaction's Queryable); see StagedTx. */
export function stagingTx(tx: Queryable): StagedTx {
  let queued: Staged[] = [];

  async function run(extra: readonly Statement[], commit: boolean): Promise<QueryResult<Record<string, unknown>>[]> {
    const sent = queued;
    queued = [];
    const statements = [...sent.map((s) => s.statement), ...extra];
    if (statements.length === 0) return [];
    const results = await runStatements(tx, statements, commit ? { commit: true } : undefined);
    sent.forEach((s, i) => s.onResult?.(results[i] as QueryResult<Record<string, unknown>>));
    return results.slice(sent.length);
  }

  return {
    async query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (queued.length === 0) return tx.query<R>(sql, params);
      const [result] = await run([{ sql, params: params ?? [] }], false);
      return result as unknown as QueryResult<R>;
    },
    async exec(sql: string): Promise<void> {
      await run([], false);
      if (tx.exec) await tx.exec(sql);
      else await tx.query(sql);
    },
    batch: (statements, options) => run(statements, options?.commit === true),
    stage(statement, onResult) {
      queued.push({ statement, onResult });
    },
    async flush(options) {
      // Nothing queued: the transaction's own COMMIT (or none, when nothing ran) does as well.
      if (queued.length > 0) await run([], options?.commit === true);
    },
    get pending() {
      return queued.length;
    },
  };
}

/** Runs a write whose result nobody reads: staged when `tx` stages (StagedTx), else at once. */
export async function write(tx: Queryable, sql: string, params: readonly unknown[]): Promise<void> {
  if (isStaged(tx)) tx.stage({ sql, params });
  else await tx.query(sql, params);
}

export function isStaged(tx: Queryable): tx is StagedTx {
  return typeof (tx as Partial<StagedTx>).stage === 'function';
}

/** Appends to `stream` with expected version 'any': staged when `tx` stages (the checks are in the statement), else at once. */
export async function appendAny(tx: Queryable, stream: string, messages: readonly NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  if (isStaged(tx)) tx.stage(appendToStreamsStatement([{ stream, expectedVersion: 'any', messages }]).statement);
  else await appendToStream(tx, stream, 'any', messages);
}
