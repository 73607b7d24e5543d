/**
 * Every ordo error has a stable `code`, says whether retrying can help, and carries
 * the data needed to act on it (Restate/Temporal style terminal vs retryable split).
 */
export abstract class OrdoError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The seed's InvalidStateTransitionException: the event is not accepted in this state. Nothing changed. */
export class InvalidTransitionError extends OrdoError {
  readonly code = 'INVALID_TRANSITION';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly state: string,
    readonly event: string,
    readonly reason = 'not accepted in this state',
  ) {
    super(`${machine}: event ${event} is ${reason} (state ${state})`);
  }
}

/** An event whose payload does not match the machine's schema for it. */
export class InvalidEventError extends OrdoError {
  readonly code = 'INVALID_EVENT';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly event: string,
    readonly issues: readonly string[],
  ) {
    super(`${machine}: invalid ${event} event: ${issues.join('; ')}`);
  }
}

export interface DefinitionViolation {
  readonly code:
    | 'UNKNOWN_INITIAL'
    | 'UNKNOWN_TARGET'
    | 'UNKNOWN_EVENT'
    | 'UNKNOWN_GUARD'
    | 'UNKNOWN_ASSIGN'
    | 'UNKNOWN_STEP'
    | 'UNKNOWN_DELAY'
    | 'FINAL_HAS_EXITS'
    | 'UNREACHABLE'
    | 'DEAD_END'
    | 'NO_FINAL_STATE';
  readonly state?: string;
  readonly message: string;
}

/** A machine definition that breaks a structural rule; lists every violation at once. */
export class MachineDefinitionError extends OrdoError {
  readonly code = 'MACHINE_DEFINITION';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly violations: readonly DefinitionViolation[],
  ) {
    super(`machine ${machine} is invalid:\n${violations.map((v) => `  - ${v.message}`).join('\n')}`);
  }
}

/** A snapshot that belongs to another machine or version than the one asked to run it. */
export class SnapshotMismatchError extends OrdoError {
  readonly code = 'SNAPSHOT_MISMATCH';
  readonly retryable = false;
  constructor(
    readonly expected: { id: string; version: number },
    readonly actual: { id: string; version: number },
  ) {
    super(`snapshot of ${actual.id}@v${actual.version} given to ${expected.id}@v${expected.version}`);
  }
}

/** The same transition computed twice gave different results: the definition is not pure. */
export class NondeterminismError extends OrdoError {
  readonly code = 'NONDETERMINISM';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly state: string,
    readonly event: string,
  ) {
    super(`${machine}: transition from ${state} on ${event} is not deterministic (guards/assigns must be pure)`);
  }
}

/** A live migration that cannot be applied as declared (not total, wrong versions, a lost step). */
export class MigrationError extends OrdoError {
  readonly code = 'MIGRATION';
  readonly retryable = false;
  constructor(
    readonly machine: string,
    readonly problems: readonly string[],
  ) {
    super(`migration of ${machine} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
