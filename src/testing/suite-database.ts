import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Db } from '../store/index.js';
import { freshPglite, freshPostgres, pgliteFactory, type FreshDatabase } from './fresh-database.js';

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

/**
 * A new prepared database for each test of a suite run on `engine` ('PGlite' or 'PostgreSQL
 * server', as the suites name them in `describe.each`): on PGlite a copy of one prepared
 * cluster, on the server a new database `ordo_t_<area>_…`. `fresh()` gives one; what a test
 * hands to `cleanup(…)` is closed after it, the last handed first. Call inside a describe.
 */
export function databasePerTest(
  engine: string,
  area: string,
  prepare: (db: Db) => Promise<void>,
): { fresh: () => Promise<FreshDatabase>; cleanup: (...closers: (() => Promise<void>)[]) => void } {
  let fresh: () => Promise<FreshDatabase>;
  let closeFactory = async () => {};
  let closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    if (engine === 'PGlite') {
      const f = await pgliteFactory(prepare);
      fresh = () => f.fresh();
      closeFactory = () => f.close();
    } else {
      fresh = async () => {
        const d = await freshPostgres(area);
        await prepare(d.db);
        return d;
      };
    }
  });
  afterAll(() => closeFactory());
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers = [];
  });
  return { fresh: () => fresh(), cleanup: (...more) => void closers.push(...more) };
}
