import type { Queryable } from '../store/index.js';

/*
 * For tests that a statement finds its rows by index however much else is stored: the rows
 * each table gave to sequential scans in this connection (pg_stat_xact_user_tables:
 * the backend's counts not yet flushed, this transaction's included). Take it before and
 * after, in one transaction; the difference is what ran in between.
 */

export async function seqTuplesRead(tx: Queryable): Promise<Map<string, number>> {
  const r = await tx.query<{ relname: string; n: string }>("SELECT relname, seq_tup_read::text AS n FROM pg_stat_xact_user_tables");
  return new Map(r.rows.map((row) => [row.relname, Number(row.n)]));
}

/** What `body` read by sequential scan, per table, run on `tx` between two looks. */
export async function seqTuplesReadBy<T>(tx: Queryable, body: () => Promise<T>): Promise<{ result: T; reads: Map<string, number> }> {
  const before = await seqTuplesRead(tx);
  const result = await body();
  const after = await seqTuplesRead(tx);
  return { result, reads: new Map([...after].map(([table, n]) => [table, n - (before.get(table) ?? 0)])) };
}
