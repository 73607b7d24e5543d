import { appendToStream, handleOnce, startOutboxRelay, type Db, type OutboxRelay, type OutboxRelayOptions } from '../store/index.js';
import type { Subscription, Transport } from '../transport/index.js';
import type { SimulatedServices } from './simulated-services.js';

export type SimulatedServiceName = 'inventory' | 'payment' | 'shipping';
const SERVICES: readonly SimulatedServiceName[] = ['inventory', 'payment', 'shipping'];

export interface TransportServicesOptions {
  /** The services' database: store and `simulationMigrations` migrated. */
  readonly db: Db;
  /** The services' own connection to the broker. */
  readonly transport: Transport;
  readonly services: SimulatedServices;
  /** Where replies go (the topic the engine's `subscribeSagaEngine` reads). */
  readonly repliesTopic: string;
  /** Each service's command topic (default `<service>-commands`, the engine's default). */
  readonly commandTopics?: Partial<Record<SimulatedServiceName, string>>;
  /** Consumer group per service: `<groupPrefix>-<service>` (default `sim`). */
  readonly groupPrefix?: string;
  /**
   * The relay publishing the services' outbox. Default: one started on `db` with `relayOptions`.
   * Pass the engine's relay when services and engine share one database (one log, one relay).
   */
  readonly relay?: OutboxRelay;
  readonly relayOptions?: Partial<Omit<OutboxRelayOptions, 'db' | 'transport'>>;
}

export interface TransportServices {
  readonly relay: OutboxRelay;
  /** Commands handled (first delivery) and redeliveries the inbox turned into no-ops. */
  readonly stats: { handled: number; duplicates: number };
  /** Closes the subscriptions, then stops the relay if this started it. */
  close(): Promise<void>;
}

/**
 * The simulated services as deployed behind a broker: one consumer per service's command
 * topic. Each command is handled once per message id (the store's inbox, consumer
 * `sim-<service>`), and in that same transaction its side effects, a `sim_handled` row and
 * its replies (in the services' outbox, topic `repliesTopic`, keyed by saga) commit; the
 * outbox relay publishes the replies. A redelivered command changes nothing.
 */
export async function serveSimulatedServices(o: TransportServicesOptions): Promise<TransportServices> {
  const relay = o.relay ?? startOutboxRelay({ name: 'sim-services-outbox', pollMs: 20, ...o.relayOptions, db: o.db, transport: o.transport });
  const stats = { handled: 0, duplicates: 0 };
  const subscriptions: Subscription[] = [];
  try {
    for (const service of SERVICES) {
      subscriptions.push(
        await o.transport.subscribe({
          topic: o.commandTopics?.[service] ?? `${service}-commands`,
          group: `${o.groupPrefix ?? 'sim'}-${service}`,
          handler: async ({ message }) => {
            const h = message.headers;
            const r = await handleOnce(o.db, `sim-${service}`, message.id, async (tx) => {
              const { fate, replies } = await o.services.handle(tx, {
                id: message.id,
                type: message.type,
                data: message.payload,
                metadata: { key: message.key, to: service, step: h['step'], compensation: h['compensation'] === 'true', attempt: Number(h['attempt'] ?? 1) },
              });
              await tx.query('INSERT INTO sim_handled (message_id, service, type, order_id, fate, replies) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)', [
                message.id,
                service,
                message.type,
                message.key,
                fate,
                JSON.stringify(replies),
              ]);
              // Reply ids derive from the command's: a resent command's answer is a new message.
              await appendToStream(
                tx,
                `sim-${service}-${message.id}`,
                'no_stream',
                replies.map((rep, i) => ({ id: `${message.id}:reply:${i}`, type: rep.type, data: rep.payload, metadata: { topic: o.repliesTopic, key: rep.key, causationId: message.id } })),
              );
            });
            if (r.duplicate) stats.duplicates += 1;
            else stats.handled += 1;
            relay.notify();
          },
        }),
      );
    }
  } catch (err) {
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    if (!o.relay) await relay.stop();
    throw err;
  }
  return {
    relay,
    stats,
    async close() {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
      if (!o.relay) await relay.stop();
    },
  };
}
