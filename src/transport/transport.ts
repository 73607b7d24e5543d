import type { Message } from './message.js';

/** What a handler sees: the message and how many times it has been delivered (1 = first). */
export interface Delivery {
  readonly message: Message;
  readonly attempt: number;
}

/** A message given up on after `maxDeliver` attempts, with why. */
export interface DeadLetter {
  readonly message: Message;
  readonly group: string;
  readonly attempts: number;
  /** The last handler error's message, or why the transport gave up (e.g. a crash loop). */
  readonly reason: string;
}

export interface SubscribeOptions {
  readonly topic: string;
  /** Consumer group / durable name: members of one group share the work. */
  readonly group: string;
  /**
   * Called once per delivery. Resolving acks the message (after the handler's own
   * database transaction has committed); throwing leaves it unacked so it is
   * redelivered; after `maxDeliver` attempts it goes to the dead-letter channel.
   */
  readonly handler: (delivery: Delivery) => Promise<void>;
  /** Attempts before dead-lettering (default 5). */
  readonly maxDeliver?: number;
  /** Called after a message is dead-lettered (besides the transport-wide `onDeadLetter`). */
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
}

export interface Subscription {
  /** Stops new deliveries and waits for the handlers already running. Unacked messages are redelivered later. */
  close(): Promise<void>;
}

/** Connection state, for a log line, a health check and a gauge. */
export interface TransportStatus {
  readonly connected: boolean;
  /** Times the broker connection was lost since the transport started. */
  readonly disconnects: number;
  /** ms epoch of the last change of `connected`. */
  readonly since: number;
  readonly lastError?: string;
}

/** At-least-once messaging keyed by saga id. Implementations: in-process, NATS JetStream, Kafka. */
export interface Transport {
  readonly kind: 'inprocess' | 'nats' | 'kafka';
  /** Resolves once the broker has persisted every message (in order, per key). */
  publish(messages: readonly Message[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  status(): TransportStatus;
  close(): Promise<void>;
}
