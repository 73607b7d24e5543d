import { withDelays, type Duration } from '../../machine/index.js';
import type { Logger } from '../../observe/index.js';
import { createSagaEngine, retentionMigrations, RETENTION_MIGRATION_SCOPE, type IncomingMessage, type SagaEngine } from '../../runtime/index.js';
import { lockProjection, startProjector, type Projector } from '../../eventsourcing/index.js';
import { defaultRelayMessage, migrate, startOutboxRelay, type Db, type OutboxRelay, type StoredMessage } from '../../store/index.js';
import type { Subscription, Transport } from '../../transport/index.js';
import { topics } from '../contracts.js';
import { orderMachine } from '../order-machine.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../order-machine-v2.js';
import { orderViewProjection } from '../order-view.js';
import type { WiringMode } from '../services/service-definitions.js';
import { replyWanted } from '../reconcile/correction-messages.js';
import { ordersMigrations } from './orders-migrations.js';
import { watchSagaGauges } from '../saga-gauges.js';
import { inConsumerSpan, observedRelayTarget, watchOutboxLag, type ServiceMetrics } from '../service-observe.js';
import { traceparentOf } from '../../observe/index.js';

export interface OrdersServiceOptions {
  readonly db: Db;
  readonly transport: Transport;
  readonly log: Logger;
  readonly mode: WiringMode;
  /** Overrides of the order machine's named delays (e.g. short timeouts in tests). */
  readonly delays?: Readonly<Record<string, Duration>>;
  /** Consume service events and forward the outbox (false in a gateway-only process). */
  readonly consume?: boolean;
  readonly relayPollMs?: number;
  /** How long a crashed process's relay lease blocks its successor (default: the relay's). */
  readonly relayLeaseMs?: number;
  readonly timerPollMs?: number;
  /** How often the order_view projector looks at the log when nothing woke it (default 100 ms). */
  readonly projectionPollMs?: number;
  /** Count the saga's transitions, the relay's messages and the events handled (absent = not counted). */
  readonly metrics?: ServiceMetrics;
  /**
   * The order machine new orders start on (default 1). With 2 (the fraud check) both versions
   * are deployed: v1 orders run on under v1 until they finish or are migrated.
   */
  readonly orderMachineVersion?: 1 | 2;
  /** With version 2: move the unfinished v1 orders to v2 in the background once started (default false; `ordo migrate` does it on demand). */
  readonly migrateOnStart?: boolean;
}

export interface OrdersService {
  readonly engine: SagaEngine;
  readonly db: Db;
  /** The version new orders start on. */
  readonly machine: typeof orderMachine | typeof orderMachineV2;
  /** Feeds `order_view` (GET /orders) from the log, behind it by one poll at the most. */
  readonly orderView: Projector;
  /** Wakes the outbox relay (unless its Db did) and the order_view projector: call after a commit through `db` that appended to the log. */
  notify(): void;
  stop(): Promise<void>;
}

/**
 * In choreography the services react to the order's events, so the saga's commands
 * stay in the log (its timeline) and are not sent.
 */
export function ordersRelayFilter(mode: WiringMode): (m: StoredMessage) => ReturnType<typeof defaultRelayMessage> {
  if (mode === 'orchestration') return defaultRelayMessage;
  return (m) => (m.metadata['kind'] === 'command' && typeof m.metadata['step'] === 'string' ? null : defaultRelayMessage(m));
}

/** The orders service: the order saga (one source of truth per order) and its outbox. */
export async function startOrdersService(options: OrdersServiceOptions): Promise<OrdersService> {
  const { db, transport, log } = options;
  const v1 = options.delays ? withDelays(orderMachine, options.delays) : orderMachine;
  const v2 = options.orderMachineVersion === 2 ? (options.delays ? withDelays(orderMachineV2, options.delays) : orderMachineV2) : undefined;
  const machine = v2 ?? v1;
  const engine = createSagaEngine({
    db,
    machines: v2 ? [v2, v1] : [v1],
    ...(v2 ? { migrations: [orderMigrationV1toV2], migrateOnStart: options.migrateOnStart === true } : {}),
    logger: log,
    ...(options.metrics ? { metrics: options.metrics.metrics, metricsService: 'orders' } : {}),
    ...(options.consume === false ? { pollIntervalMs: false as const } : options.timerPollMs ? { pollIntervalMs: options.timerPollMs } : {}),
  });
  await engine.start();
  await migrate(db, ordersMigrations, 'orders');
  // The archive tables exist before anyone reads an order (order-queries.ts falls back to them).
  await migrate(db, retentionMigrations, RETENTION_MIGRATION_SCOPE);
  // order_view is projected in every process that opens the orders database (the orders
  // service, a gateway on its own): their batches take turns under the projection's lock,
  // each woken by its own commits. The table is created under that lock too: two processes
  // starting at once would race on CREATE TABLE IF NOT EXISTS.
  await db.transaction(async (tx) => {
    await lockProjection(tx, orderViewProjection.name);
    await orderViewProjection.setup(tx, orderViewProjection.table);
  });
  const orderView = startProjector(db, orderViewProjection, {
    pollMs: options.projectionPollMs ?? 100,
    // The saga commits of a busy moment (five per order) share one order_view batch: GET
    // /orders lags by up to 20 ms more; GET /orders/:id reads the order's own stream.
    gatherMs: 20,
    onError: (err) => log.warn({ err, projection: orderViewProjection.name }, 'order_view projection failed; retrying'),
  });

  let relay: OutboxRelay | undefined;
  const notify = (): void => {
    relay?.committed();
    orderView.notify();
  };
  let unwatch = (): void => undefined;
  const subs: Subscription[] = [];
  if (options.consume !== false) {
    relay = startOutboxRelay({
      db,
      transport: observedRelayTarget(transport, 'orders', options.metrics),
      name: 'orders-outbox',
      pollMs: options.relayPollMs ?? 100,
      ...(options.relayLeaseMs ? { leaseMs: options.relayLeaseMs } : {}),
      toMessages: ordersRelayFilter(options.mode),
      topicsOnly: true, // the filter publishes through defaultRelayMessage: messages with a topic only
      log,
    });
    const unwatchLag = watchOutboxLag(options.metrics, db, 'orders', 'orders-outbox');
    const unwatchSagas = options.metrics ? watchSagaGauges(options.metrics.metrics, db, machine) : () => undefined;
    unwatch = () => {
      unwatchLag();
      unwatchSagas();
    };
    for (const service of ['inventory', 'payment', 'shipping'] as const) {
      subs.push(
        await transport.subscribe({
          topic: topics.events(service),
          group: 'orders',
          maxDeliver: 20,
          handler: ({ message }) =>
            inConsumerSpan('orders', message, async () => {
              // The engine continues this consumer span's trace in the transition and the commands it causes.
              const headers = { ...message.headers, traceparent: traceparentOf() ?? message.headers.traceparent };
              const incoming: IncomingMessage = { id: message.id, key: message.key, type: message.type, payload: message.payload, headers };
              const handled = (outcome: string) => options.metrics?.metrics.messagesHandled.inc({ service: 'orders', type: message.type, outcome });
              // A second answer to a reconciler's question (the first got there after all): nothing waits for it.
              if (!(await replyWanted({ engine, machine, db }, incoming))) return void handled('unwanted');
              const [result] = await engine.deliver([incoming]);
              handled(result?.status ?? 'rejected');
              if (result?.status === 'rejected') throw result.error;
              if (result?.status === 'dead-lettered') log.warn({ messageId: message.id, type: message.type, reason: result.reason }, 'order event dead-lettered');
              notify();
            }),
        }),
      );
    }
  }
  return {
    engine,
    db,
    machine,
    orderView,
    notify,
    async stop() {
      unwatch();
      for (const s of subs) await s.close();
      await engine.stop();
      await relay?.stop();
      await orderView.stop();
    },
  };
}
