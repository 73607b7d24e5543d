/**
 * The envelope every transport carries. `key` is the saga (order) id: messages with
 * the same key are delivered in publish order (same NATS subject / Kafka partition).
 */
export interface Message {
  /** Unique id; the broker's dedup key (Nats-Msg-Id) and the inbox key. */
  readonly id: string;
  /** Logical channel, e.g. `order-events`, `inventory-commands`. */
  readonly topic: string;
  /** Ordering key: the saga / order id. */
  readonly key: string;
  /** Message type, e.g. `InventoryReserved`. */
  readonly type: string;
  readonly payload: unknown;
  readonly headers: MessageHeaders;
}

export interface MessageHeaders {
  readonly causationId?: string;
  /** The order id the message belongs to. */
  readonly correlationId?: string;
  readonly machineVersion?: string;
  /** W3C trace context. */
  readonly traceparent?: string;
  readonly [name: string]: string | undefined;
}
