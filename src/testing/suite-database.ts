import { afterAll, beforeAll } from 'vitest';
import type { Db } from '../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from './fresh-database.js';

/*
 * The one setup of the suites that run against both engines: for test files only (it
 * imports vitest, so the `ordo/testing` entry point does not export it).
 */

export type EngineName = 'pglite' | 'postgres';

/** In-memory PGlite and a new server database `ordo_t_<area>_…` (pool of `max`), for `describe.each`. */
export function bothEngines(area: string, max?: number): [EngineName, () => Promise<FreshDatabase>][] {
  return [
    ['pglite', freshPglite],
    ['postgres', () => freshPostgres(area, max)],
  ];
}

/**
 * Opens the suite's database before its tests, runs `prepare` on it (migrations, tables),
 * hands it to `opened`, and closes it after them. Call inside a describe.
 */
export function databaseForSuite(open: () => Promise<FreshDatabase>, prepare: (db: Db) => Promise<void>, opened: (db: Db) => void): void {
  let fresh: FreshDatabase | undefined;
  beforeAll(async () => {
    fresh = await open();
    await prepare(fresh.db);
    opened(fresh.db);
  });
  afterAll(() => fresh?.close());
}
