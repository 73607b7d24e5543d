import { OrdoError } from '../machine/index.js';

/** What the caller expected a stream to hold before an append. */
export type ExpectedVersion = number | 'any' | 'no_stream';

/**
 * Optimistic concurrency failed: the stream was changed by someone else. Reload and retry
 * in a new transaction.
 *
 * `reason: 'transaction-order'` is the rarer case where the versions matched but the
 * stream's last message was written by a transaction that started after this one (this
 * transaction got its id earlier, then read the newer message). Appending would put the
 * new message before the older one in global order, so the append is refused; a retry in
 * a fresh transaction (with a newer transaction id) succeeds.
 */
export class ExpectedVersionConflictError extends OrdoError {
  readonly code = 'EXPECTED_VERSION_CONFLICT';
  readonly retryable = true;
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** The stream's version as this transaction saw it; `null` when a concurrent append won the race. */
    readonly actual: number | null,
    readonly reason: 'version' | 'transaction-order' = 'version',
  ) {
    super(
      reason === 'transaction-order'
        ? `stream ${stream}: its last message was written by a newer transaction; retry in a new transaction`
        : `stream ${stream}: expected version ${String(expected)}, but it is ${actual === null ? 'being appended to concurrently' : String(actual)}`,
    );
  }
}

/** A message id that is already in the log (ids are unique; they are the dedup key downstream). */
export class DuplicateMessageIdError extends OrdoError {
  readonly code = 'DUPLICATE_MESSAGE_ID';
  readonly retryable = false;
  constructor(
    readonly stream: string,
    readonly ids: readonly string[],
  ) {
    super(`stream ${stream}: a message with id ${ids.slice(0, 5).join(' or ')}${ids.length > 5 ? ' or …' : ''} is already in the log`);
  }
}

/** Bad arguments to a store call; nothing was written. */
export class InvalidStoreInputError extends OrdoError {
  readonly code = 'INVALID_STORE_INPUT';
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** The migrations given do not agree with the ones already applied, or are malformed. */
export class MigrationError extends OrdoError {
  readonly code = 'MIGRATION';
  readonly retryable = false;
  constructor(
    readonly scope: string,
    readonly version: number | null,
    readonly problem: string,
  ) {
    super(`migrations ${scope}${version === null ? '' : ` v${version}`}: ${problem}`);
  }
}

/** The store's tables or functions are missing: `migrateStore(db)` was not run on this database. */
export class StoreNotMigratedError extends OrdoError {
  readonly code = 'STORE_NOT_MIGRATED';
  readonly retryable = false;
  constructor(readonly detail: string) {
    super(`the store's tables are missing (${detail}); call migrateStore(db) when the service starts`);
  }
}

/** Turns PostgreSQL's "no such table/function" into StoreNotMigratedError; anything else is returned as is. */
export function whenNotMigrated(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  return e.code === '42P01' || e.code === '42883' ? new StoreNotMigratedError(e.message ?? e.code) : err;
}
