import type { Db } from './db.js';
import { InvalidStoreInputError } from './errors.js';

/*
 * Dead rows of the hot tables (the log that retention trims, instances updated at every
 * step, timers and inbox entries written and deleted again) are reclaimed by VACUUM. A
 * server with autovacuum does it by itself; one without (autovacuum = off, or off for the
 * table) and PGlite (one process: no autovacuum worker ever runs) never does, and there
 * every finished saga leaves its dead rows behind for good: the tables and their indexes
 * grow with the history and everything that reads them slows down with it.
 */

/** 'auto': only where autovacuum will not; 'always': also where it would; 'never': leave it. */
export type VacuumMode = 'auto' | 'always' | 'never';

export interface VacuumDecision {
  readonly table: string;
  readonly live: number;
  readonly dead: number;
  /** Whether autovacuum reclaims this table by itself (never on PGlite). */
  readonly autovacuum: boolean;
}

/** Autovacuum's own default trigger: 50 dead rows plus 20% of the live ones. */
const due = (d: VacuumDecision) => d.dead > 50 + 0.2 * d.live;

/** The statistics and autovacuum setting of each table that exists (missing ones are left out). */
export async function vacuumState(db: Db, tables: readonly string[]): Promise<VacuumDecision[]> {
  const r = await db.query<{ table: string; live: string; dead: string; autovacuum: boolean }>(
    `SELECT t.name AS table, s.n_live_tup::text AS live, s.n_dead_tup::text AS dead,
       current_setting('autovacuum')::boolean
         AND coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) o WHERE o.option_name = 'autovacuum_enabled'), 'on')::boolean AS autovacuum
     FROM unnest($1::text[]) AS t(name)
     JOIN pg_class c ON c.oid = to_regclass(t.name)
     JOIN pg_stat_all_tables s ON s.relid = c.oid`,
    [tables],
  );
  return r.rows.map((row) => ({ table: row.table, live: Number(row.live), dead: Number(row.dead), autovacuum: db.engine !== 'pglite' && row.autovacuum }));
}

/**
 * VACUUMs (and ANALYZEs: without autovacuum nothing refreshes the planner's statistics
 * either) those of `tables` with more dead rows than autovacuum would wait for, in `mode`.
 * Runs outside any transaction (VACUUM cannot run in one); returns the tables vacuumed.
 */
export async function vacuumWhereNeeded(db: Db, tables: readonly string[], mode: VacuumMode): Promise<string[]> {
  if (mode !== 'auto' && mode !== 'always' && mode !== 'never') throw new InvalidStoreInputError('vacuum', `must be "auto", "always" or "never", got ${String(mode)}`);
  for (const t of tables) if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new InvalidStoreInputError('tables', `"${t}" is not a plain table name`);
  if (mode === 'never' || tables.length === 0) return [];
  const chosen = (await vacuumState(db, tables)).filter((d) => due(d) && (mode === 'always' || !d.autovacuum)).map((d) => d.table);
  if (chosen.length > 0) await db.query(`VACUUM (ANALYZE) ${chosen.join(', ')}`);
  return chosen;
}
