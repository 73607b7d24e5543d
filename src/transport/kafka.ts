import { Admin, GenericError, NetworkError, ProduceAcks, Producer, stringSerializers, type ClusterTopicMetadata } from '@platformatic/kafka';
import { PublishFailedError, TransportClosedError } from './errors.js';
import { DEAD_ATTEMPTS, DEAD_GROUP, DEAD_REASON, encode } from './kafka-codec.js';
import { KafkaHealth } from './kafka-health.js';
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
  /**
   * Records of one partition a member handles at once (default 16), never two of one key:
   * a key's records still run one after another, in offset order. 1 = one record at a time
   * per partition. Offsets are committed only over records whose handlers all resolved.
   */
  readonly concurrencyPerPartition?: number;
  /** Request timeout for produce/fetch/commit (default 5 000 ms). */
  readonly timeoutMs?: number;
  /** How long publish/subscribe wait for a topic being created to be served (default 10 000 ms). */
  readonly topicWaitMs?: number;
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
  const concurrencyPerPartition = options.concurrencyPerPartition ?? 16;
  if (!Number.isInteger(concurrencyPerPartition) || concurrencyPerPartition < 1) throw new RangeError(`concurrencyPerPartition must be a positive integer, got ${concurrencyPerPartition}`);
  const logger = options.logger ?? stderrLogger;
  const state = new ConnectionState('kafka', logger, options.onStatus);
  const health = new KafkaHealth(state);
  const base = { clientId, bootstrapBrokers: [...options.brokers], timeout: options.timeoutMs ?? 5_000, retries: 3, retryDelay: 250 };
  const producer = new Producer({ ...base, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false });
  let admin: Admin | undefined;
  const knownTopics = new Set<string>();
  const subscriptions = new Set<Subscription>();
  let closed = false;
  let probing = false;
  producer.on('client:broker:disconnect', () => {
    health.down('producer');
    probeProducer();
  });
  producer.on('client:broker:connect', () => health.up('producer'));

  /**
   * Reconnects the producer with backoff after it lost its connection: an idle producer (a
   * transport that only consumes) would otherwise never connect again and hold the
   * transport's status down after the broker came back.
   */
  function probeProducer(): void {
    if (probing || closed) return;
    probing = true;
    void (async () => {
      for (let wait = 250; !closed; wait = Math.min(wait * 2, 4_000)) {
        await sleep(wait, { unref: true });
        try {
          await producer.metadata({ topics: [], forceUpdate: true });
          if (!closed) health.up('producer');
          break;
        } catch {
          // still down; the consumers and publish report the reason
        }
      }
      probing = false;
    })();
  }

  const deadLetterTopic = (topic: string) => `${topic}.dlq`;
  const topicWaitMs = options.topicWaitMs ?? 10_000;

  /**
   * Creates the topics and their dead-letter topics unless known (idempotent: "already exists"
   * is fine), and waits until the broker serves every partition of them: a busy broker may
   * answer the creation late or list the topic before its partitions have a leader. An
   * unreachable broker fails at once; a topic that is still not there after `topicWaitMs` too.
   */
  async function ensureTopics(topics: readonly string[]): Promise<void> {
    let missing = [...new Set(topics)].filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    admin ??= new Admin(base);
    const deadline = Date.now() + topicWaitMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
      const wanted = missing.flatMap((t) => [t, deadLetterTopic(t)]);
      let problem: unknown;
      try {
        await admin.createTopics({ topics: wanted, partitions, replicas: 1 });
      } catch (err) {
        problem = err; // usually TOPIC_ALREADY_EXISTS for some of them; the metadata below is the judge
      }
      try {
        const metadata = await admin.metadata({ topics: wanted, forceUpdate: true });
        for (const t of missing) if (served(metadata.topics.get(t)) && served(metadata.topics.get(deadLetterTopic(t)))) knownTopics.add(t);
      } catch (err) {
        problem = err;
      }
      missing = missing.filter((t) => !knownTopics.has(t));
      if (missing.length === 0) return;
      if (unreachable(problem)) throw problem;
      if (Date.now() >= deadline) throw new Error(`kafka: topics ${missing.join(', ')} not available${problem === undefined ? ' (partitions without a leader)' : `: ${errorReason(problem)}`}`);
      await sleep(wait);
    }
  }

  /** Forgets `topics`, so the next use checks them again (and re-creates any that vanished: deleted, or a broker that came back without them). */
  function recheckTopics(topics: readonly string[]): void {
    for (const t of topics) knownTopics.delete(t);
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
    concurrencyPerPartition,
    logger,
    health,
    deadLetter,
    async ensureTopic(topic) {
      recheckTopics([topic]);
      await ensureTopics([topic]);
    },
  };

  // Fail fast (like the NATS connect) when no broker answers at start.
  try {
    await producer.metadata({ topics: [] });
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }
  health.up('producer');

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
        health.up('producer');
      } catch (err) {
        health.down('producer', errorReason(err));
        recheckTopics(messages.map((m) => m.topic));
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
      health.close();
      await Promise.allSettled([...subscriptions].map((s) => s.close()));
      state.closed();
      await Promise.allSettled([producer.close(), admin?.close()]);
    },
  };
  return transport;
}

const sleep = (ms: number, { unref = false } = {}) =>
  new Promise<void>((r) => {
    const timer = setTimeout(r, ms);
    if (unref) timer.unref();
  });

/** Every partition of the topic has a leader. */
function served(topic: ClusterTopicMetadata | undefined): boolean {
  return topic !== undefined && topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0);
}

/** A connection error or timeout somewhere in the chain: the broker is not there, waiting for a topic is pointless. */
function unreachable(err: unknown): boolean {
  if (!(err instanceof Error) || !GenericError.isGenericError(err)) return false;
  const generic: Pick<GenericError, 'findBy'> = err;
  return generic.findBy('code', NetworkError.code) !== null;
}
