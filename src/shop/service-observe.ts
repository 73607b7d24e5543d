import { SpanKind, inSpan, openSpan, type OrdoMetrics } from '../observe/index.js';
import { logBacklog, type Db, type RelayMessage, type RelayTarget } from '../store/index.js';
import type { Message } from '../transport/index.js';

/** The process's metrics and the transport kind they label published messages with. */
export interface ServiceMetrics {
  readonly metrics: OrdoMetrics;
  readonly transport: string;
}

/**
 * The relay's view of the transport, with a producer span per message (child of the
 * message's traceparent, which it then replaces, so the consumer's span is the publish
 * span's child) and the published-messages counter once the broker has them.
 */
export function observedRelayTarget(target: RelayTarget, service: string, m: ServiceMetrics | undefined): RelayTarget {
  return {
    async publish(messages: readonly RelayMessage[]): Promise<void> {
      const spans = messages.map((msg) =>
        openSpan(`publish ${msg.topic}`, {
          ...(msg.headers['traceparent'] ? { parent: msg.headers['traceparent'] } : {}),
          kind: SpanKind.PRODUCER,
          attributes: { 'ordo.service': service, 'messaging.system': m?.transport ?? 'unknown', 'messaging.destination.name': msg.topic, 'messaging.message.id': msg.id, 'ordo.message_type': msg.type, 'ordo.order_id': msg.key },
        }),
      );
      const traced = messages.map((msg, i) => {
        const tp = spans[i]?.traceparent;
        return tp ? { ...msg, headers: { ...msg.headers, traceparent: tp } } : msg;
      });
      try {
        await target.publish(traced);
      } catch (err) {
        for (const s of spans) s.end(err);
        throw err;
      }
      for (const s of spans) s.end();
      if (m) for (const msg of messages) m.metrics.messagesPublished.inc({ transport: m.transport, topic: msg.topic });
    },
  };
}

/** `ordo_outbox_lag_messages` and `_seconds` of one service's relay, read from its database at each scrape. */
export function watchOutboxLag(m: ServiceMetrics | undefined, db: Db, service: string, relayName: string): () => void {
  if (!m) return () => undefined;
  return m.metrics.onScrape(async () => {
    const b = await logBacklog(db, relayName);
    m.metrics.outboxLag.set({ service }, b.messages);
    m.metrics.outboxLagSeconds.set({ service }, b.oldestSeconds);
  });
}

/** Runs a consumer's handling of one message in a consumer span, child of the message's publish span. */
export function inConsumerSpan<T>(service: string, message: Message, fn: () => Promise<T>): Promise<T> {
  return inSpan(
    `process ${message.topic} ${message.type}`,
    {
      ...(message.headers.traceparent ? { parent: message.headers.traceparent } : {}),
      kind: SpanKind.CONSUMER,
      attributes: { 'ordo.service': service, 'messaging.destination.name': message.topic, 'messaging.message.id': message.id, 'ordo.message_type': message.type, 'ordo.order_id': message.key },
    },
    fn,
  );
}
