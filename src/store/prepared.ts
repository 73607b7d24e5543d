import { createHash } from 'node:crypto';

/*
 * Statements run so often (every relay round, every projection batch) that parsing and
 * planning them each time costs more than running them: a server Db prepares them once per
 * connection, under a name taken from their text, and afterwards only binds and executes
 * (postgres-db.ts). Only fixed texts with parameters belong here — never SQL built per call,
 * which would leave a prepared statement per text on every connection. PGlite prepares them
 * once in its session too (pglite-session.ts).
 */
const names = new Map<string, string>();

/** Marks `sql` as prepared once per connection (server) or session (PGlite); returns it unchanged. */
export function preparedStatement(sql: string): string {
  if (!names.has(sql)) names.set(sql, `ordo_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`);
  return sql;
}

/** The name `sql` is prepared under, if it was marked. */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
