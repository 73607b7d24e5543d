import type { z } from 'zod';
import { outgoingTraceparent, type Logger } from '../observe/index.js';
import { inboxContains, migrate, migrateStore, readStream, startOutboxRelay, type Db, type Migration, type OutboxRelay, type Queryable } from '../store/index.js';
import type { Delivery, Message, Subscription, Transport } from '../transport/index.js';
import { topics, type ServiceEvent } from './contracts.js';
import { serviceBatcher, type BatchJob, type ServiceBatchOptions } from './service-batch.js';
import { appendAny } from './staged-writes.js';
import { onceTx } from './once-tx.js';
import { markReplayed, recordServiceDeadLetter, REPLAY_DEAD_LETTER, ReplayDeadLetter, serviceDeadLetterMigrations, waitingDeadLetter } from './service-dead-letters.js';
import { watchServiceDeadLetters } from './saga-gauges.js';
import { inConsumerSpan, observedRelayTarget, watchOutboxLag, type ServiceMetrics } from './service-observe.js';

/** How a service handles one message type. */
export interface ServiceHandler<P = unknown, X = unknown> {
  readonly schema: z.ZodType<P>;
  /**
   * Calls to the outside world (card provider, carrier) before the transaction:
   * they must be idempotent by key, since a redelivery calls them again. A thrown
   * error leaves the message unacked so it is retried.
   */
  readonly external?: (payload: P, delivery: Delivery) => Promise<X>;
  /** The service's own state change, in one transaction with the inbox record and the outbox. */
  readonly apply: (tx: Queryable, payload: P, external: X, delivery: Delivery) => Promise<ServiceEvent[]>;
}

export interface ServiceDefinition {
  readonly name: string;
  readonly migrations: readonly Migration[];
  /** topic → message type → handler. Types without a handler are acknowledged and skipped. */
  readonly subscriptions: Readonly<Record<string, Readonly<Record<string, ServiceHandler<never, unknown>>>>>;
  /** Topic its reports go to. */
  readonly eventsTopic: string;
  /** How its handlers' transactions are grouped (service-batch.ts); default one batch at a time of up to 64. */
  readonly batching?: ServiceBatchOptions;
}

export interface HostedService {
  readonly name: string;
  readonly db: Db;
  /** Appends reports to the outbox as if a message had been handled (for the gateway and timers). */
  emit(tx: Queryable, orderId: string, events: readonly ServiceEvent[], cause?: Message): Promise<void>;
  /** Wakes the outbox relay after a commit made outside a handler through `db` (unless `db` woke it already). */
  notify(): void;
  /** Runs `job` in a transaction shared with the handlers' (group commit, service-batch.ts); resolves after the commit. */
  batched<T>(job: BatchJob<T>): Promise<T>;
  /** Calls `listener` after each handler's transaction that wrote reports has committed; returns the unsubscribe. */
  onCommitted(listener: () => void): () => void;
  stop(): Promise<void>;
}

export { serviceDeadLetterMigrations } from './service-dead-letters.js';

async function lastTraceparent(tx: Queryable, stream: string): Promise<string | undefined> {
  const [last] = await readStream(tx, stream, { direction: 'backwards', limit: 1 });
  const tp = last?.metadata['traceparent'];
  return typeof tp === 'string' ? tp : undefined;
}

function orderIdOf(payload: unknown, message: Message): string {
  const id = (payload as { orderId?: unknown } | null)?.orderId;
  return typeof id === 'string' && id.length > 0 ? id : message.key;
}

/**
 * Runs a service: its migrations, a consumer per subscribed topic (inbox + handler
 * + outbox in one transaction), and an outbox relay forwarding its reports.
 */
export async function hostService(
  def: ServiceDefinition,
  db: Db,
  transport: Transport,
  log: Logger,
  options: { relayPollMs?: number; relayLeaseMs?: number; maxDeliver?: number; metrics?: ServiceMetrics; batching?: ServiceBatchOptions } = {},
): Promise<HostedService> {
  await migrateStore(db);
  await migrate(db, [...def.migrations, ...serviceDeadLetterMigrations], `service:${def.name}`);
  const relayName = `${def.name}-outbox`;
  const committed = new Set<() => void>();
  const relay: OutboxRelay = startOutboxRelay({
    db,
    transport: observedRelayTarget(transport, def.name, options.metrics),
    name: relayName,
    pollMs: options.relayPollMs ?? 100,
    ...(options.relayLeaseMs ? { leaseMs: options.relayLeaseMs } : {}),
    log,
  });
  const unwatch = [watchOutboxLag(options.metrics, db, def.name, relayName), ...(options.metrics ? [watchServiceDeadLetters(options.metrics.metrics, db, def.name)] : [])];
  const metrics = options.metrics?.metrics;
  const batcher = serviceBatcher(db, { ...def.batching, ...options.batching });

  async function emit(tx: Queryable, orderId: string, events: readonly ServiceEvent[], cause?: Message): Promise<void> {
    if (events.length === 0) return;
    const stream = `${def.name}-${orderId}`;
    // Work of its own (the carrier's delivery) continues the order's trace: the newest one in
    // its stream. A reply continues its cause's trace, or none when the cause carried none
    // (tracing off): looking in the stream then cost every handled message two round trips.
    const parent = cause ? cause.headers.traceparent : await lastTraceparent(tx, stream);
    const traceparent = outgoingTraceparent(parent);
    await appendAny(
      tx,
      stream,
      events.map((e) => ({
        type: e.type,
        data: e.payload,
        metadata: {
          topic: def.eventsTopic,
          key: orderId,
          correlationId: orderId,
          ...(cause ? { causationId: cause.id } : {}),
          traceparent,
        },
      })),
    );
  }

  async function deadLetter(message: Message, reason: string): Promise<void> {
    log.warn({ service: def.name, messageId: message.id, type: message.type, reason }, 'message dead-lettered');
    await recordServiceDeadLetter(db, message, reason);
  }

  // Its command topic is always subscribed: an operator's ReplayDeadLetter arrives there in both wirings.
  const commandTopic = topics.commands(def.name as Parameters<typeof topics.commands>[0]);
  const subscriptions = { ...def.subscriptions, [commandTopic]: { ...def.subscriptions[commandTopic] } };

  const subs: Subscription[] = [];
  for (const [topic, handlers] of Object.entries(subscriptions)) {
    subs.push(
      await transport.subscribe({
        topic,
        group: def.name,
        // Transient failures (a provider hiccup) are retried this many times before the dead-letter channel.
        maxDeliver: options.maxDeliver ?? 20,
        // Given up on: kept in the service's database for the operator (GET /admin/service-dead-letters, replay).
        onDeadLetter: async (dead) => {
          await deadLetter(dead.message, `gave up after ${dead.attempts} attempts: ${dead.reason}`);
          metrics?.deadLetters.inc({ service: def.name, reason: 'attempts-exhausted' });
        },
        handler: async (delivery) => {
          const labels = { service: def.name, type: delivery.message.type };
          await inConsumerSpan(def.name, delivery.message, async () => {
            try {
              const outcome = await handle(handlers, delivery);
              metrics?.messagesHandled.inc({ ...labels, outcome });
            } catch (err) {
              metrics?.messagesHandled.inc({ ...labels, outcome: 'failed' });
              throw err;
            }
          });
        },
      }),
    );
  }

  /** Handles one delivery; says what became of it, for the metrics. Throws to have it redelivered. */
  async function handle(handlers: ServiceDefinition['subscriptions'][string], delivery: Delivery): Promise<'handled' | 'duplicate' | 'ignored' | 'dead-lettered'> {
    const { message } = delivery;
    if (message.topic === commandTopic && message.type === REPLAY_DEAD_LETTER) return replay(message);
    const handler = handlers[message.type] as ServiceHandler<unknown, unknown> | undefined;
    if (!handler) return 'ignored';
    const parsed = handler.schema.safeParse(message.payload);
    if (!parsed.success) {
      await deadLetter(message, `invalid ${message.type}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      metrics?.deadLetters.inc({ service: def.name, reason: 'invalid-payload' });
      return 'dead-lettered';
    }
    // Looked up first only where a redelivery would call the outside world again; otherwise the
    // inbox insert in the transaction finds a duplicate, and a round trip per message is saved.
    if (handler.external && (await inboxContains(db, def.name, message.id))) return 'duplicate';
    const external = handler.external ? await handler.external(parsed.data, delivery) : undefined;
    const wrote = await batcher.submit(async (tx) => {
      // The inbox insert goes with the handler's first read (or alone, before its first write).
      const job = onceTx(tx, def.name, message.id);
      let events: ServiceEvent[];
      try {
        events = await handler.apply(job.tx, parsed.data, external, delivery);
        await emit(job.tx, orderIdOf(parsed.data, message), events, message);
        if (!(await job.fresh())) return undefined;
      } catch (err) {
        if (job.duplicate()) return undefined;
        throw err;
      }
      return events.length > 0;
    });
    if (wrote === undefined) return 'duplicate';
    if (wrote) {
      relay.committed();
      for (const l of committed) l();
    }
    return 'handled';
  }

  /**
   * An operator's replay: the dead letter's message is handled again as if it had just
   * arrived (the inbox still keeps it to once), then the dead letter is marked with the
   * outcome. A failure throws, so the command is redelivered like any other.
   */
  async function replay(command: Message): Promise<'handled' | 'duplicate' | 'dead-lettered'> {
    const parsed = ReplayDeadLetter.safeParse(command.payload);
    if (!parsed.success) {
      await deadLetter(command, `invalid ${REPLAY_DEAD_LETTER}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      return 'dead-lettered';
    }
    const { deadLetterId, actor } = parsed.data;
    const stored = await waitingDeadLetter(db, deadLetterId);
    if (!stored) {
      log.info({ service: def.name, deadLetterId }, 'replay: no such dead letter waiting (unknown, or replayed already)');
      return 'duplicate';
    }
    const outcome = await handle(subscriptions[stored.topic] ?? {}, { message: stored, attempt: 1 });
    await markReplayed(db, deadLetterId, actor ?? 'operator', outcome);
    log.info({ service: def.name, deadLetterId, messageId: stored.id, outcome }, 'dead letter replayed');
    return outcome === 'dead-lettered' ? 'dead-lettered' : 'handled';
  }

  return {
    name: def.name,
    db,
    emit,
    notify: () => relay.committed(),
    batched: (job) => batcher.submit(job),
    onCommitted(listener) {
      committed.add(listener);
      return () => void committed.delete(listener);
    },
    async stop() {
      committed.clear();
      for (const u of unwatch) u();
      for (const s of subs) await s.close();
      await relay.stop();
    },
  };
}
