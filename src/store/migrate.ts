import type { Db } from './db.js';
import { MigrationError } from './errors.js';

export interface Migration {
  /** Positive integer; applied in ascending order, each at most once per scope. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface MigrateResult {
  readonly scope: string;
  /** Versions applied by this call (empty when everything was already there). */
  readonly applied: readonly number[];
}

/**
 * Applies the missing migrations of one scope (e.g. `ordo_store`, `orders`) in one
 * transaction and records them in `ordo_migrations`. Idempotent; two processes starting
 * at once on a server serialise on an advisory lock taken before anything else, so the
 * second one finds the work done.
 */
export async function migrate(db: Db, migrations: readonly Migration[], scope: string): Promise<MigrateResult> {
  const sorted = checked(migrations, scope);
  return db.transaction(async (tx) => {
    // One key for every scope: migrations are rare and short, and DDL from two scopes may touch shared objects.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('ordo_migrations'))`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ordo_migrations (
      scope text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, version)
    )`);
    const done = await tx.query<{ version: number; name: string }>('SELECT version, name FROM ordo_migrations WHERE scope = $1', [scope]);
    const known = new Map(done.rows.map((r) => [Number(r.version), r.name]));
    const applied: number[] = [];
    for (const m of sorted) {
      const name = known.get(m.version);
      if (name !== undefined) {
        if (name !== m.name) throw new MigrationError(scope, m.version, `already applied as "${name}", now named "${m.name}"; versions must never be reused`);
        continue;
      }
      await (tx.exec ? tx.exec(m.sql) : tx.query(m.sql));
      await tx.query('INSERT INTO ordo_migrations (scope, version, name) VALUES ($1, $2, $3)', [scope, m.version, m.name]);
      applied.push(m.version);
    }
    return { scope, applied };
  });
}

function checked(migrations: readonly Migration[], scope: string): Migration[] {
  if (typeof scope !== 'string' || scope.length === 0) throw new MigrationError(String(scope), null, 'scope must be a non-empty string');
  const seen = new Set<number>();
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version < 1) throw new MigrationError(scope, null, `version must be a positive integer, got ${String(m.version)}`);
    if (seen.has(m.version)) throw new MigrationError(scope, m.version, 'version listed twice');
    if (typeof m.name !== 'string' || m.name.length === 0) throw new MigrationError(scope, m.version, 'name must be a non-empty string');
    if (typeof m.sql !== 'string' || m.sql.trim().length === 0) throw new MigrationError(scope, m.version, 'sql must be a non-empty string');
    seen.add(m.version);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}
