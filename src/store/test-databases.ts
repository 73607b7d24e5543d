import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from './db.js';
import { openPglite } from './pglite-db.js';
import { ensurePostgresDatabase, openPostgres } from './postgres-db.js';

/** A database for one test run, and how to get rid of it. Test helper; not part of the store's API. */
export interface TestDatabase {
  readonly db: Db;
  close(): Promise<void>;
}

export const TEST_POSTGRES_ADMIN_URL = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A new, empty database `ordo_t_<area>_<random>` on the server, dropped by `close()`. */
export async function freshPostgresDatabase(area: string, max = 24): Promise<TestDatabase & { readonly url: string }> {
  const name = `ordo_t_${area}_${randomBytes(4).toString('hex')}`;
  const url = await ensurePostgresDatabase(TEST_POSTGRES_ADMIN_URL, name);
  const db = openPostgres({ url, max, applicationName: `ordo-test-${area}` });
  return {
    db,
    url,
    async close() {
      await db.close().catch(() => undefined); // drop the database even if the pool was closed already
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A new in-memory PGlite database. */
export async function freshPgliteDatabase(): Promise<TestDatabase> {
  const db = await openPglite();
  return { db, close: () => db.close() };
}
