import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { PublishFailedError, TransportClosedError } from './errors.js';
import { DEAD_ATTEMPTS, DEAD_GROUP, DEAD_REASON, encode } from './kafka-codec.js';
import { startKafkaSubscription, type KafkaSubscriptionContext } from './kafka-subscription.js';
import { ConnectionState, stderrLogger, type TransportLogger } from './logger.js';
import { checkMessage, checkName, errorReason } from './names.js';
import type { DeadLetter, SubscribeOptions, Subscription, Transport, TransportStatus } from './transport.js';

export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Partitions of the topics this transport creates (default 3); existing topics are left as they are. */
  readonly partitions?: number;
  /** Consumer group session timeout (default 10 000 ms; the broker's minimum is usually 6 000). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Delay before a handler that threw runs again on the same message (default 200 ms). */
  readonly redeliveryDelayMs?: number;
  /** Request timeout for produce/fetch/commit (default 5 000 ms). */
  readonly timeoutMs?: number;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
  readonly onStatus?: (status: TransportStatus) => void;
  readonly logger?: TransportLogger;
}

export interface KafkaTransport extends Transport {
  readonly kind: 'kafka';
  /** The dead-letter topic of `topic` (`<topic>.dlq`). */
  deadLetterTopic(topic: string): string;
}

/**
 * Apache Kafka through @platformatic/kafka: topic = Message.topic, record key = Message.key,
 * idempotent producer with acks=all, one consumer-group member per subscription with
 * offsets committed only after the handler resolved, `<topic>.dlq` after maxDeliver.
 */
export async function createKafkaTransport(options: KafkaTransportOptions): Promise<KafkaTransport> {
  const clientId = options.clientId ?? 'ordo';
  const partitions = options.partitions ?? 3;
  const logger = options.logger ?? stderrLogger;
  const state = new ConnectionState('kafka', logger, options.onStatus);
  const base = { clientId, bootstrapBrokers: [...options.brokers], timeout: options.timeoutMs ?? 5_000, retries: 3, retryDelay: 250 };
  const producer = new Producer({ ...base, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false });
  producer.on('client:broker:disconnect', () => state.down('producer'));
  producer.on('client:broker:connect', () => state.up('producer'));
  let admin: Admin | undefined;
  const knownTopics = new Set<string>();
  const subscriptions = new Set<Subscription>();
  let closed = false;
  const deadLetterTopic = (topic: string) => `${topic}.dlq`;

  /** Creates the topic and its dead-letter topic once (idempotent: "already exists" is fine). */
  async function ensureTopics(topics: readonly string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    admin ??= new Admin(base);
    const wanted = missing.flatMap((t) => [t, deadLetterTopic(t)]);
    try {
      await admin.createTopics({ topics: wanted, partitions, replicas: 1 });
    } catch {
      // Usually TOPIC_ALREADY_EXISTS for some of them; the metadata below is the judge.
    }
    const metadata = await admin.metadata({ topics: wanted, forceUpdate: true });
    for (const t of missing) if (metadata.topics.has(t)) knownTopics.add(t);
    const absent = missing.filter((t) => !knownTopics.has(t));
    if (absent.length > 0) throw new Error(`kafka: could not create topics ${absent.join(', ')}`);
  }

  async function deadLetter(dead: DeadLetter, perSubscription: SubscribeOptions['onDeadLetter']): Promise<void> {
    await ensureTopics([dead.message.topic]);
    await producer.send({
      messages: [encode(dead.message, deadLetterTopic(dead.message.topic), { [DEAD_REASON]: dead.reason, [DEAD_GROUP]: dead.group, [DEAD_ATTEMPTS]: String(dead.attempts) })],
    });
    logger.warn({ broker: 'kafka', id: dead.message.id, topic: dead.message.topic, group: dead.group, attempts: dead.attempts, reason: dead.reason }, 'kafka: message dead-lettered');
    for (const callback of [perSubscription, options.onDeadLetter]) {
      try {
        await callback?.(dead);
      } catch (err) {
        logger.error({ broker: 'kafka', err: errorReason(err) }, 'kafka: dead-letter callback failed');
      }
    }
  }

  const context: KafkaSubscriptionContext = {
    base,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
    redeliveryDelayMs: options.redeliveryDelayMs ?? 200,
    logger,
    state,
    deadLetter,
  };

  // Fail fast (like the NATS connect) when no broker answers at start.
  try {
    await producer.metadata({ topics: [] });
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }
  state.up('connect');

  const transport: KafkaTransport = {
    kind: 'kafka',
    deadLetterTopic,
    async publish(messages) {
      if (closed) throw new TransportClosedError('kafka');
      messages.forEach(checkMessage);
      if (messages.length === 0) return;
      try {
        await ensureTopics(messages.map((m) => m.topic));
        // One request: per partition the records form one atomic batch, in order, and the
        // idempotent producer's sequence numbers keep its own retries from duplicating them.
        await producer.send({ messages: messages.map((m) => encode(m)) });
        state.up('publish');
      } catch (err) {
        state.down('publish', errorReason(err));
        throw new PublishFailedError('kafka', messages.map((m) => m.id), err);
      }
    },
    async subscribe(sub) {
      if (closed) throw new TransportClosedError('kafka');
      checkName('topic', sub.topic);
      checkName('group', sub.group);
      await ensureTopics([sub.topic]);
      const subscription = await startKafkaSubscription(context, sub);
      const tracked: Subscription = {
        async close() {
          subscriptions.delete(tracked);
          await subscription.close();
        },
      };
      subscriptions.add(tracked);
      return tracked;
    },
    status: () => state.status(),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...subscriptions].map((s) => s.close()));
      state.closed();
      await Promise.allSettled([producer.close(), admin?.close()]);
    },
  };
  return transport;
}
