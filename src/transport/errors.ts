import { OrdoError } from '../machine/index.js';

/** publish/subscribe on a transport that was closed. */
export class TransportClosedError extends OrdoError {
  readonly code = 'TRANSPORT_CLOSED';
  readonly retryable = false;
  constructor(readonly transport: string) {
    super(`${transport} transport is closed`);
  }
}

/** A topic, group, key or header that the brokers cannot carry as given. */
export class InvalidTransportNameError extends OrdoError {
  readonly code = 'TRANSPORT_INVALID_NAME';
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${rule}`);
  }
}

/** The broker did not confirm some messages; publishing the same batch again is safe (dedup by id / inbox). */
export class PublishFailedError extends OrdoError {
  readonly code = 'TRANSPORT_PUBLISH_FAILED';
  readonly retryable = true;
  constructor(
    readonly transport: string,
    /** Ids of the messages that were not confirmed (later messages of the same key were not sent). */
    readonly failedIds: readonly string[],
    override readonly cause: unknown,
  ) {
    super(`${transport}: ${failedIds.length} message(s) not confirmed by the broker: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
