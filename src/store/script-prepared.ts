import type { Statement } from './db.js';
import { preparedName } from './prepared.js';

/*
 * Marked statements (prepared.ts) inside scripts. A script is one simple-protocol message,
 * which takes no parameters, so its statements are parsed and planned at every run — for
 * an engine batch, planning its writes costs the server about as much as running them. A
 * statement PREPAREd once on the connection (SQL PREPARE, under its name + `_s`; the
 * protocol-level one node-postgres makes for a query keeps the plain name) is run in the
 * script as `EXECUTE name(literals…)` instead: the script stays one round trip and the
 * server keeps the plan. PREPARE is not transactional (it outlives a rollback), so a
 * statement is known prepared exactly when its PREPARE returned; one that cannot be
 * prepared is inlined as before.
 */

/*
 * Kept to themselves, PostgreSQL's plan cache re-plans these statements at every run: the
 * custom plan for a batch's arrays (a row or two) always looks cheaper than the generic
 * one, so the PREPARE would save only the parse. Every marked statement finds its rows by
 * key (primary or unique index) whatever the arrays hold — the tests of what a batch reads
 * pass with generic plans forced — so a script runs them with the generic plan, planned
 * once per connection: set for the transaction before them, back to the defaults after
 * them (the rest of the transaction plans as it would have).
 *
 * And planned as by key: without sequential scans. A generic plan is made once and kept for
 * the connection until the statistics of a table it reads change — and a fresh database's
 * tables have none until the first autoanalyze (up to a minute, autovacuum_naptime): planned
 * then, the batch's instance update joined its arrays to a sequential scan of every instance,
 * and kept doing so while the table grew (a bench saga run read ~2,000 rows per batch).
 * Each statement sets both settings for the transaction (set_config … true) and gives both
 * back to their defaults (a NULL value), one statement either way.
 */
export const GENERIC_PLANS = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)";
export const PLANS_AS_BEFORE = "SELECT set_config('plan_cache_mode', NULL, true), set_config('enable_seqscan', NULL, true)";

export interface ScriptConnection {
  query(sql: string): Promise<unknown>;
}

/** Per connection: each marked text's script name, or null when it could not be prepared there. */
const prepared = new WeakMap<ScriptConnection, Map<string, string | null>>();

/**
 * Prepares on `client` the marked statements among `statements` it has not seen yet (one
 * round trip each, once per connection; inside a transaction under a savepoint, so a
 * refusal does not abort it) and returns what `scriptOf` runs them as. `session` names the
 * connection when `client` is only a way to it (a PGlite transaction: PGlite's one session);
 * `suffix` ends the names it prepares (default `_s`).
 */
export async function prepareForScript(client: ScriptConnection, statements: readonly Statement[], inTransaction: boolean, session: ScriptConnection = client, suffix = '_s'): Promise<(sql: string) => string | undefined> {
  let known = prepared.get(session);
  if (!known) prepared.set(session, (known = new Map<string, string | null>()));
  for (const s of statements) {
    const name = preparedName(s.sql);
    if (name === undefined || known.has(s.sql)) continue;
    const as = `${name}${suffix}`;
    try {
      await client.query(inTransaction ? `SAVEPOINT ordo_prepare;\nPREPARE ${as} AS ${s.sql};\nRELEASE SAVEPOINT ordo_prepare` : `PREPARE ${as} AS ${s.sql}`);
      known.set(s.sql, as);
    } catch {
      if (inTransaction) await client.query('ROLLBACK TO SAVEPOINT ordo_prepare;\nRELEASE SAVEPOINT ordo_prepare');
      known.set(s.sql, null);
    }
  }
  const names = known;
  return (sql) => names.get(sql) ?? undefined;
}

/** What PostgreSQL says when a table a prepared statement reads changed the type of a column it returns. */
const STALE_RESULT = 'cached plan must not change result type';

/**
 * After a transaction failed (and rolled back): if a prepared statement's result type went
 * stale (a migration changed a column it returns), its PREPAREs on `client` are dropped, so
 * the next script prepares them again instead of failing on this connection for ever.
 */
export async function forgetStalePrepared(client: ScriptConnection, err: unknown): Promise<void> {
  if ((err as { message?: unknown } | undefined)?.message !== STALE_RESULT) return;
  const known = prepared.get(client);
  prepared.delete(client);
  for (const name of known?.values() ?? []) if (name !== null) await client.query(`DEALLOCATE ${name}`).catch(() => undefined);
}
