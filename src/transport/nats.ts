import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { InvalidTransportNameError, PublishFailedError, TransportClosedError } from './errors.js';
import { ConnectionState, stderrLogger, type TransportLogger } from './logger.js';
import type { Message } from './message.js';
import { byKey, checkMessage, checkName, DEFAULT_MAX_DELIVER, errorReason } from './names.js';
import { DEAD_ATTEMPTS, DEAD_GROUP, DEAD_REASON, encodeHeaders, encodePayload } from './nats-codec.js';
import { LeaseCoordinator } from './nats-leases.js';
import { startPartitionWorker, type PartitionWorker } from './nats-partition.js';
import type { NatsTrace } from './nats-trace.js';
import { partitionOf } from './partition.js';
import type { DeadLetter, SubscribeOptions, Subscription, Transport, TransportStatus } from './transport.js';

export interface NatsTransportOptions {
  readonly servers: string | readonly string[];
  /** JetStream stream holding every topic: subjects `<stream>.<topic>.<partition>` (default `ORDO`). */
  readonly stream?: string;
  /**
   * Partitions per topic (default 16). Each group has one durable consumer per partition,
   * and one member of the group holds a partition at a time (a lease in the `ordo_groups`
   * key-value bucket), which is what keeps a key in order across the group's members.
   * Every publisher and consumer of a stream must use the same number.
   */
  readonly partitions?: number;
  /** Messages delivered and not yet acked per partition (max_ack_pending, default 256); a key's messages still run one at a time. */
  readonly maxInFlightPerPartition?: number;
  /** Members heartbeat and renew their leases this often (default 1 000 ms). */
  readonly leaseTickMs?: number;
  /** A member silent this long is gone and its partitions are taken over (default 5 000 ms). */
  readonly leaseTtlMs?: number;
  /** Unacked messages are redelivered after this long (default 30 000 ms); a running handler extends it. */
  readonly ackWaitMs?: number;
  /** Delay before a message whose handler threw is tried again (default 200 ms). */
  readonly redeliveryDelayMs?: number;
  /** The stream's duplicate window for Nats-Msg-Id (default 120 000 ms). */
  readonly dedupWindowMs?: number;
  /** How long the stream keeps messages (default 7 days). */
  readonly maxAgeMs?: number;
  readonly storage?: 'file' | 'memory';
  /** Connection name shown by the server. */
  readonly name?: string;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
  readonly onStatus?: (status: TransportStatus) => void;
  readonly logger?: TransportLogger;
  /** Diagnostics: called for every step of the partition consumers (leases, deliveries, acks); see nats-trace.ts. */
  readonly trace?: NatsTrace;
}

export interface NatsTransport extends Transport {
  readonly kind: 'nats';
  readonly stream: string;
  /** Subject a message of `topic` with `key` is stored under. */
  subjectFor(topic: string, key: string): string;
  /** Subject dead letters of `topic` are published to (stored in the same stream). */
  deadLetterSubject(topic: string): string;
}

const ms = (n: number) => nanos(n);
/** Key-value bucket holding every group's partition leases (keys are prefixed by stream, group and topic). */
const LEASE_BUCKET = 'ordo_groups';

/** Connects, creates or updates the stream, and returns the transport. */
export async function createNatsTransport(options: NatsTransportOptions): Promise<NatsTransport> {
  const stream = options.stream ?? 'ORDO';
  checkName('stream', stream);
  const partitions = options.partitions ?? 16;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new RangeError(`partitions must be 1..1024, got ${partitions}`);
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 200;
  const maxInFlight = options.maxInFlightPerPartition ?? 256;
  const leaseTickMs = options.leaseTickMs ?? 1_000;
  const leaseTtlMs = options.leaseTtlMs ?? 5_000;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlightPerPartition must be a positive integer, got ${maxInFlight}`);
  if (!(leaseTtlMs >= 3 * leaseTickMs)) throw new RangeError(`leaseTtlMs (${leaseTtlMs}) must be at least 3 × leaseTickMs (${leaseTickMs})`);
  const logger = options.logger ?? stderrLogger;
  const state = new ConnectionState('nats', logger, options.onStatus);

  const nc: NatsConnection = await connect({
    servers: typeof options.servers === 'string' ? options.servers : [...options.servers],
    name: options.name ?? 'ordo',
    // Never give up: a broker restart must not turn into a dead process.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    pingInterval: 5_000,
    // Errors carry message ids already; building an extra stack per request costs ~15 % CPU when publishing.
    noAsyncTraces: true,
  });
  state.up('connect');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') state.down(s.server);
      else if (s.type === 'reconnect') state.up(s.server);
      else if (s.type === 'error') logger.warn({ broker: 'nats', err: s.error.message }, 'nats: connection error');
    }
  })();

  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  const streamConfig = {
    name: stream,
    subjects: [`${stream}.>`],
    retention: RetentionPolicy.Limits,
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    duplicate_window: ms(options.dedupWindowMs ?? 120_000),
    max_age: ms(options.maxAgeMs ?? 7 * 24 * 3_600_000),
    num_replicas: 1,
  };
  try {
    await jsm.streams.add(streamConfig);
  } catch {
    // Exists with another config (or created concurrently): bring it to ours.
    await jsm.streams.update(stream, streamConfig);
  }

  let closed = false;
  const subscriptions = new Set<Subscription>();
  const subjectFor = (topic: string, key: string) => `${stream}.${topic}.${partitionOf(key, partitions)}`;
  const deadLetterSubject = (topic: string) => `${stream}.${topic}.dlq`;

  async function publishChain(chain: readonly Message[], failed: string[], errors: unknown[]): Promise<void> {
    // One key at a time: the next message of a key is sent only once the previous one is
    // stored, so a failure can never let a later message overtake an earlier one.
    for (let i = 0; i < chain.length; i++) {
      const m = chain[i] as Message;
      try {
        await js.publish(subjectFor(m.topic, m.key), encodePayload(m.payload), { msgID: m.id, headers: encodeHeaders(m) });
      } catch (err) {
        failed.push(...chain.slice(i).map((x) => x.id));
        errors.push(err);
        return;
      }
    }
  }

  async function deadLetter(dead: DeadLetter, perSubscription: SubscribeOptions['onDeadLetter']): Promise<void> {
    await js.publish(deadLetterSubject(dead.message.topic), encodePayload(dead.message.payload), {
      msgID: `${dead.message.id}:dlq:${dead.group}`,
      headers: encodeHeaders(dead.message, { [DEAD_REASON]: dead.reason.replace(/[\r\n]+/g, ' '), [DEAD_GROUP]: dead.group, [DEAD_ATTEMPTS]: String(dead.attempts), 'Ordo-Dead-Id': dead.message.id }),
    });
    logger.warn({ broker: 'nats', id: dead.message.id, topic: dead.message.topic, group: dead.group, attempts: dead.attempts, reason: dead.reason }, 'nats: message dead-lettered');
    for (const callback of [perSubscription, options.onDeadLetter]) {
      try {
        await callback?.(dead);
      } catch (err) {
        logger.error({ broker: 'nats', err: errorReason(err) }, 'nats: dead-letter callback failed');
      }
    }
  }

  async function ensureConsumer(name: string, filter: string, maxDeliver: number): Promise<void> {
    const config = {
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ms(ackWaitMs),
      max_ack_pending: maxInFlight,
      // One more than the handler gets: on that delivery ordo dead-letters the message
      // (the process died or overran ack_wait every time), so the reason is recorded.
      max_deliver: maxDeliver + 1,
    };
    try {
      await jsm.consumers.add(stream, config);
    } catch {
      await jsm.consumers.update(stream, name, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, max_ack_pending: maxInFlight });
    }
  }

  let leaseBucket: Promise<KV> | null = null;
  const leases = () => (leaseBucket ??= new Kvm(nc).create(LEASE_BUCKET, { history: 1, ttl: 24 * 3_600_000 }));

  async function subscribe(sub: SubscribeOptions): Promise<Subscription> {
    if (closed) throw new TransportClosedError('nats');
    checkName('topic', sub.topic);
    checkName('group', sub.group);
    for (const [field, value] of [['topic', sub.topic], ['group', sub.group]] as const) {
      if (value.includes('__')) throw new InvalidTransportNameError(field, value, 'must not contain "__" (it separates group, topic and partition in durable names)');
    }
    const maxDeliver = sub.maxDeliver ?? DEFAULT_MAX_DELIVER;
    const consumerName = (p: number) => `${sub.group}__${sub.topic}__${p}`;
    await Promise.all(Array.from({ length: partitions }, (_, p) => ensureConsumer(consumerName(p), `${stream}.${sub.topic}.${p}`, maxDeliver)));

    const workers = new Map<number, PartitionWorker>();
    const coordinator: LeaseCoordinator = new LeaseCoordinator({
      kv: await leases(),
      prefix: `${stream}.${sub.group}.${sub.topic}`,
      partitions,
      ackWaitMs,
      tickMs: leaseTickMs,
      leaseTtlMs,
      logger,
      ...(options.trace ? { trace: options.trace } : {}),
      host: {
        async start(p) {
          const consumer = await js.consumers.get(stream, consumerName(p));
          const { delivered } = await consumer.info(true);
          workers.set(
            p,
            startPartitionWorker({
              consumer,
              label: consumerName(p),
              group: sub.group,
              maxDeliver,
              ackWaitMs,
              redeliveryDelayMs,
              batch: Math.min(maxInFlight, 128),
              logger,
              handler: sub.handler,
              deadLetter: (dead) => deadLetter(dead, sub.onDeadLetter),
              leaseFresh: () => coordinator.fresh(p),
              connectionEpoch: () => state.status().disconnects,
              flush: () => nc.flush(),
              deliveredAtStart: delivered.consumer_seq,
              ...(options.trace ? { trace: (event, fields) => coordinator.trace(p, event, fields) } : {}),
            }),
          );
        },
        async stop(p) {
          const worker = workers.get(p);
          workers.delete(p);
          return worker ? worker.stop() : { clean: true };
        },
      },
    });
    await coordinator.start();

    let stopping: Promise<void> | null = null;
    const subscription: Subscription = {
      close() {
        stopping ??= coordinator.close().then(() => void subscriptions.delete(subscription));
        return stopping;
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    kind: 'nats',
    stream,
    subjectFor,
    deadLetterSubject,
    async publish(messages) {
      if (closed) throw new TransportClosedError('nats');
      messages.forEach(checkMessage);
      const failed: string[] = [];
      const errors: unknown[] = [];
      await Promise.all([...byKey(messages).values()].map((chain) => publishChain(chain, failed, errors)));
      if (failed.length > 0) throw new PublishFailedError('nats', failed, errors[0]);
    },
    subscribe,
    status: () => state.status(),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...subscriptions].map((s) => s.close()));
      state.closed();
      // drain() waits for the server to confirm; with the broker down that could be forever.
      const drained = await Promise.race([nc.drain().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref())]);
      if (!drained) await nc.close().catch(() => undefined);
    },
  };
}
