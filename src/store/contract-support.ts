import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Db, Queryable } from './db.js';
import { LOG_START, StoreNotMigratedError, appendToStream, globalPositionOf, migrateStore, readAll, type GlobalPosition, type StoredMessage } from './index.js';

/*
 * What the store's contract files share: the database a suite runs against, unique
 * stream names, and waiting helpers for the global order.
 */

/**
 * Runs `body` while a transaction of `where` holds a transaction id (given to `body`), as a
 * transaction that wrote does, and a later transaction of `reader` has ended (so the held id
 * is below a reader's snapshot's xmax); the held one commits when `body` is done. Servers only.
 */
export async function whileHolding(where: Db, body: (id: string) => Promise<void>, reader: Db = where): Promise<void> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let started!: (id: string) => void;
  const hasId = new Promise<string>((r) => (started = r));
  const holding = where.transaction(async (tx: Queryable) => {
    started((await tx.query<{ id: string }>('SELECT pg_current_xact_id()::text AS id')).rows[0]!.id);
    await released;
  });
  try {
    const id = await hasId;
    await reader.query('SELECT pg_current_xact_id()');
    await body(id);
  } finally {
    release();
    await holding;
  }
}

/** A stream name no other test uses. */
export const uniqueStream = (prefix = 's'): string => `${prefix}-${randomUUID()}`;

/** Every message after `from` in global order, paging `limit` at a time, waiting until `count` arrived. */
export async function readAllUntil(db: Db, from: GlobalPosition, count: number, limit = 1000): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let at = from;
  const deadline = Date.now() + 20_000;
  while (out.length < count) {
    const batch = await readAll(db, at, limit);
    const last = batch[batch.length - 1];
    if (last) {
      out.push(...batch);
      at = globalPositionOf(last);
    } else {
      // A transaction of this database still open (another test's writer) holds the read horizon back for a moment.
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return out;
}

/**
 * Server only: a transaction B that takes its transaction id first (by writing to another
 * stream), then waits for `proceed()` before running `then`, so that a transaction A
 * started meanwhile has a newer id than B.
 */
export function olderTransaction<T>(db: Db, then: (tx: Queryable) => Promise<T>): { idTaken: Promise<void>; proceed(): void; result: Promise<T> } {
  let proceed!: () => void;
  const mayProceed = new Promise<void>((r) => (proceed = r));
  let taken!: () => void;
  const idTaken = new Promise<void>((r) => (taken = r));
  const result = db.transaction(async (tx) => {
    await appendToStream(tx, uniqueStream('elsewhere'), 0, [{ type: 'Elsewhere', data: null }]);
    taken();
    await mayProceed;
    return then(tx);
  });
  return { idTaken, proceed, result };
}

/** Appending to and reading a database without the store's tables fail with StoreNotMigratedError. */
export async function expectNotMigrated(db: Db): Promise<void> {
  await expect(appendToStream(db, 's', 0, [{ type: 'A', data: null }])).rejects.toMatchObject({ code: 'STORE_NOT_MIGRATED', retryable: false });
  await expect(readAll(db, LOG_START, 10)).rejects.toBeInstanceOf(StoreNotMigratedError);
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

/**
 * A database a contract runs against, and how to get rid of it. The test files pass the
 * testing kit's freshPglite/freshPostgres (contract files may not import the testing layer).
 */
export interface ContractDatabase {
  readonly db: Db;
  close(): Promise<void>;
}

/**
 * Opens the suite's database before its tests, with the store migrated, hands it to
 * `opened`, and closes it after them. Call inside a describe.
 */
export function migratedForSuite(open: () => Promise<ContractDatabase>, opened: (db: Db) => void): void {
  let t: ContractDatabase | undefined;
  beforeAll(async () => {
    t = await open();
    await migrateStore(t.db);
    opened(t.db);
  });
  afterAll(async () => {
    await t?.close();
  });
}

export interface EngineCapabilities {
  /** Several transactions open at once (the server); PGlite runs them one after another. */
  readonly concurrentTransactions: boolean;
}
