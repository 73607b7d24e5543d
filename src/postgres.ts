// `ordo/postgres`: a PostgreSQL server through `pg` (the production store).
export { openPostgres, ensurePostgresDatabase, type PostgresOptions } from './store/index.js';
