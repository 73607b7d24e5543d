import { OrdoError } from '../machine/index.js';

/** A command whose input is malformed (e.g. an order without items). Nothing was written. */
export class InvalidCommandError extends OrdoError {
  readonly code = 'INVALID_COMMAND';
  readonly retryable = false;
  constructor(
    readonly command: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid ${command} command: ${issues.join('; ')}`);
  }
}

/**
 * Replaying a recorded transition through the machine did not reach the recorded state:
 * the machine definition changed under a running stream (Temporal's nondeterminism).
 */
export class ReplayMismatchError extends OrdoError {
  readonly code = 'REPLAY_MISMATCH';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly event: string,
    readonly recorded: string,
    readonly replayed: string,
  ) {
    super(`${machine}: replaying ${event} reached ${replayed}, but the log recorded ${recorded}; the machine changed under this stream`);
  }
}

/** Every attempt of a command lost the optimistic-concurrency race; retrying later may work. */
export class ConcurrencyRetriesExhaustedError extends OrdoError {
  readonly code = 'CONCURRENCY_RETRIES_EXHAUSTED';
  readonly retryable = true;
  constructor(
    readonly stream: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`stream ${stream}: gave up after ${attempts} attempts, each lost a concurrent append`);
  }
}

/** An upcaster chain that cannot bring an event to the current schema version. */
export class UpcastError extends OrdoError {
  readonly code = 'UPCAST_FAILED';
  readonly retryable = false;
  constructor(
    readonly type: string,
    readonly fromVersion: number,
    readonly problem: string,
  ) {
    super(`event ${type} v${fromVersion}: ${problem}`);
  }
}

/** Bad arguments to a read-model query (limit, cursor, filters). */
export class InvalidQueryError extends OrdoError {
  readonly code = 'INVALID_QUERY';
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A projection name nobody registered. */
export class UnknownProjectionError extends OrdoError {
  readonly code = 'UNKNOWN_PROJECTION';
  readonly retryable = false;
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(`unknown projection "${projection}"; known: ${known.join(', ') || '(none)'}`);
  }
}

/** A projection definition that cannot be used safely (bad table name, no handled types). */
export class ProjectionDefinitionError extends OrdoError {
  readonly code = 'PROJECTION_DEFINITION';
  readonly retryable = false;
  constructor(
    readonly projection: string,
    readonly problem: string,
  ) {
    super(`projection ${projection}: ${problem}`);
  }
}
