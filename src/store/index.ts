export type { Db, Queryable, QueryResult, Engine } from './db.js';
export { openPostgres, ensurePostgresDatabase, type PostgresOptions } from './postgres-db.js';
export { openPglite, type PgliteOptions } from './pglite-db.js';
