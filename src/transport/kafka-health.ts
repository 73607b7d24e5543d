import type { ConnectionState } from './logger.js';

/**
 * The Kafka transport is several clients (a producer, one consumer per subscription), each
 * with its own connections. It is reported up only while every one of them is: otherwise a
 * producer that reconnected would report "connection restored" (and `status().connected`, the
 * broker-up metric) while a consumer still cannot rejoin and nothing is consumed.
 */
export class KafkaHealth {
  private readonly failing = new Map<string, string | undefined>();
  private closing = false;

  constructor(private readonly state: ConnectionState) {}

  /** `part` works (again). */
  up(part: string): void {
    this.failing.delete(part);
    if (this.failing.size === 0) this.state.up(part);
  }

  /** `part` cannot reach the broker (or its topic). */
  down(part: string, reason?: string): void {
    this.failing.set(part, reason);
    this.state.down(part, reason);
  }

  /** `part` is gone (a closed subscription): it no longer holds the transport down. */
  forget(part: string): void {
    if (this.failing.delete(part) && this.failing.size === 0 && !this.closing) this.state.up(part);
  }

  /** The transport is closing: its subscriptions going away restores nothing. */
  close(): void {
    this.closing = true;
  }
}
