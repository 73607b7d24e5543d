import { OrdoError } from '../machine/index.js';

/**
 * Active (or parked) instances are pinned to a machine version the engine was not
 * given. Starting anyway would strand them silently, so the engine refuses.
 */
export class MachineVersionMissingError extends OrdoError {
  readonly code = 'MACHINE_VERSION_MISSING';
  readonly retryable = false;
  constructor(readonly missing: readonly { machine: string; version: number; instances: number }[]) {
    super(
      `refusing to start: ${missing
        .map((m) => `${m.instances} unfinished instance(s) of machine ${m.machine} are pinned to version ${m.version}, which is not deployed`)
        .join('; ')}. Deploy that version beside the new one until they finish.`,
    );
  }
}

export class UnknownMachineError extends OrdoError {
  readonly code = 'UNKNOWN_MACHINE';
  readonly retryable = false;
  constructor(readonly machine: string, readonly known: readonly string[]) {
    super(`unknown machine ${machine}; known: ${known.join(', ') || '(none)'}`);
  }
}

export class SagaNotFoundError extends OrdoError {
  readonly code = 'SAGA_NOT_FOUND';
  readonly retryable = false;
  constructor(readonly sagaId: string) {
    super(`no saga instance with id ${sagaId}`);
  }
}

export class DeadLetterNotFoundError extends OrdoError {
  readonly code = 'DEAD_LETTER_NOT_FOUND';
  readonly retryable = false;
  constructor(readonly deadLetterId: string) {
    super(`no dead letter with id ${deadLetterId} waiting for replay`);
  }
}

/** Another writer changed the instance between load and write; the engine reloads and retries. */
export class RevisionConflictError extends OrdoError {
  readonly code = 'REVISION_CONFLICT';
  readonly retryable = true;
  constructor(readonly sagaId: string, readonly expectedRevision: number) {
    super(`saga ${sagaId} is no longer at revision ${expectedRevision}`);
  }
}

export class EngineStoppedError extends OrdoError {
  readonly code = 'ENGINE_STOPPED';
  readonly retryable = true;
  constructor() {
    super('the saga engine is stopped (or not started yet)');
  }
}

export class InvalidEngineOptionError extends OrdoError {
  readonly code = 'INVALID_ENGINE_OPTION';
  readonly retryable = false;
  constructor(readonly option: string, readonly reason: string) {
    super(`createSagaEngine: ${option} ${reason}`);
  }
}

/** A saga id or an incoming message that cannot be processed at all (no id, no saga key, no type). */
export class InvalidSagaInputError extends OrdoError {
  readonly code = 'INVALID_SAGA_INPUT';
  readonly retryable = false;
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

/**
 * A batch that trusted the engine's instance cache instead of loading could not commit as
 * it was (a duplicate, a parked message, a row written elsewhere, an input that needs the
 * database): it runs again with a load. Internal: never reaches a caller.
 */
export class BatchCacheMissError extends OrdoError {
  readonly code = 'BATCH_CACHE_MISS';
  readonly retryable = true;
  constructor(readonly why: unknown) {
    super(`batch without a load must run again: ${why instanceof Error ? why.message : String(why)}`);
  }
}
