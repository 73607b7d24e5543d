import { OrdoError } from '../machine/index.js';
import type { Db, Queryable } from '../store/index.js';

/** Thrown by a crashing database at the injected point, and by every call after it (the process is "dead"). */
export class CrashInjectedError extends OrdoError {
  readonly code = 'CRASH_INJECTED';
  readonly retryable = false;
  constructor(readonly afterWrite: number) {
    super(`crash injected after database write #${afterWrite}`);
  }
}

export interface CrashingDb extends Db {
  /** Writes seen so far (statements that change data, and commits). */
  readonly writes: number;
  readonly crashed: boolean;
}

const WRITE = /^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete)\b)/i;

/**
 * Wraps a database so that the process "dies" right after its Nth write: a data-changing
 * statement (inside a transaction, which then never commits) or a commit (which then
 * happened, but its caller never learns it). From then on every call throws
 * CrashInjectedError. Restart by building a fresh engine on the underlying `db`.
 * `crashAfterWrite: undefined` only counts (to learn how many crash points a run has).
 */
export function crashingDb(db: Db, crashAfterWrite?: number): CrashingDb {
  let writes = 0;
  let crashed = false;
  const alive = () => {
    if (crashed) throw new CrashInjectedError(crashAfterWrite ?? 0);
  };
  const wrote = () => {
    writes += 1;
    if (crashAfterWrite !== undefined && writes === crashAfterWrite) {
      crashed = true;
      throw new CrashInjectedError(writes);
    }
  };
  const wrap = (q: Queryable, inTx: boolean): Queryable => ({
    async query(sql, params) {
      alive();
      const r = await q.query(sql, params);
      // Outside a transaction the statement commits by itself: that is the write.
      if (WRITE.test(sql) || (!inTx && /^\s*(create|alter|drop)/i.test(sql))) wrote();
      return r as never;
    },
    ...(q.exec ? { exec: async (sql: string) => (alive(), await q.exec?.(sql)) } : {}),
  });
  const outer = wrap(db, false);
  return {
    engine: db.engine,
    describe: `crashing(${db.describe})`,
    get writes() {
      return writes;
    },
    get crashed() {
      return crashed;
    },
    query: outer.query.bind(outer),
    ...(db.exec ? { exec: async (sql: string) => (alive(), await db.exec?.(sql)) } : {}),
    async transaction(fn) {
      alive();
      const result = await db.transaction((tx) => fn(wrap(tx, true)));
      wrote();
      return result;
    },
    close: () => db.close(),
  };
}
