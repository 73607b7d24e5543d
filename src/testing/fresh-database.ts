import { randomBytes } from 'node:crypto';
import { dropPostgresDatabase, ensurePostgresDatabase, openPostgres, pgliteDb, snapshotPglite, startPglite, type Db } from '../store/index.js';

export const TEST_POSTGRES_ADMIN_URL = process.env['ORDO_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface FreshDatabase {
  readonly db: Db;
  /** The server URL (server only), e.g. to hand to a child process. */
  readonly url?: string;
  /** Closes it and, on the server, drops the database. */
  close(): Promise<void>;
}

/** A new server database `ordo_t_<area>_<random>` with a pool of `max` connections, dropped by `close()`. */
export async function freshPostgres(area: string, max = 10): Promise<FreshDatabase & { url: string; name: string }> {
  const name = `ordo_t_${area}_${randomBytes(4).toString('hex')}`;
  const url = await ensurePostgresDatabase(TEST_POSTGRES_ADMIN_URL, name);
  const db = openPostgres({ url, max, applicationName: `ordo-test-${area}` });
  return { db, url, name, close: async () => {
    await db.close().catch(() => undefined); // drop the database even if the test closed the pool already
    await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, name);
  } };
}

/**
 * Test databases start with 16 MB of shared buffers, as the embedded shop's cluster does
 * (store/pglite-shared.ts), not PGlite's 128 MB: each start sets up its shared memory,
 * and a test database holds a few thousand rows at most. About half the CPU of a start.
 */
const TEST_PGLITE_SETTINGS = { shared_buffers: '16MB' };

/** A new in-memory PGlite database. */
export async function freshPglite(): Promise<FreshDatabase> {
  const db = pgliteDb(await startPglite({ settings: TEST_PGLITE_SETTINGS }), 'pglite:memory');
  return { db, close: () => db.close() };
}

/**
 * In-memory PGlite databases copied from one prepared template (migrations applied once):
 * much faster than creating and migrating each one. Close the factory when done.
 */
export async function pgliteFactory(prepare: (db: Db) => Promise<void>): Promise<{ fresh(): Promise<FreshDatabase>; close(): Promise<void> }> {
  const template = await startPglite({ settings: TEST_PGLITE_SETTINGS });
  const from = await prepare(pgliteDb(template, 'pglite:memory (template)'))
    .then(() => snapshotPglite(template))
    .finally(() => template.close());
  return {
    async fresh() {
      const db = pgliteDb(await startPglite({ from, settings: TEST_PGLITE_SETTINGS }), 'pglite:memory (clone)');
      return { db, close: () => db.close() };
    },
    close: () => Promise.resolve(),
  };
}
