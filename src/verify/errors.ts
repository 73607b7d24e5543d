import { OrdoError } from '../machine/index.js';

/** A model option that cannot be checked (unknown fault, bad bound, missing event). Fix the options. */
export class ModelOptionsError extends OrdoError {
  readonly code = 'VERIFY_MODEL_OPTIONS';
  readonly retryable = false;
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`verify: ${option}: ${reason}`);
  }
}

/** The exploration hit a bound (states, channel capacity, local states): the result would be partial. */
export class ModelBoundError extends OrdoError {
  readonly code = 'VERIFY_MODEL_BOUND';
  readonly retryable = false;
  constructor(
    readonly bound: string,
    readonly limit: number,
    readonly hint: string,
  ) {
    super(`verify: exceeded ${bound} (${limit}); ${hint}`);
  }
}

/** A counterexample path could not be replayed on concrete states: a checker bug, reported loudly rather than as a short trace. */
export class TraceReplayError extends OrdoError {
  readonly code = 'VERIFY_TRACE_REPLAY';
  readonly retryable = false;
  constructor(
    readonly property: string,
    readonly step: number,
  ) {
    super(`verify: the counterexample for ${property} could not be replayed at step ${step}`);
  }
}
