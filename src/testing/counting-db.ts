import type { Db } from '../store/index.js';

/** `db`, counting the statements run outside a transaction and the transactions begun (tests of how often a loop goes to the database). */
export function countingDb(db: Db): { db: Db; counts: { statements: number; transactions: number } } {
  const counts = { statements: 0, transactions: 0 };
  return {
    counts,
    db: { ...db, query: (sql, params) => ((counts.statements += 1), db.query(sql, params)), transaction: (fn) => ((counts.transactions += 1), db.transaction(fn)) },
  };
}
