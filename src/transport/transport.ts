import type { Message } from './message.js';

/** What a handler sees: the message and how many times it has been delivered (1 = first). */
export interface Delivery {
  readonly message: Message;
  readonly attempt: number;
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
  readonly maxDeliver?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

/** At-least-once messaging keyed by saga id. Implementations: in-process, NATS JetStream, Kafka. */
export interface Transport {
  readonly kind: 'inprocess' | 'nats' | 'kafka';
  /** Resolves once the broker has persisted every message (in order, per key). */
  publish(messages: readonly Message[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
