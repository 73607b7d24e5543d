import type { OrdoMetrics } from '../observe/index.js';
import type { OutboxRelayOptions } from '../store/index.js';

/** The process's metrics and the transport kind they label published messages with. */
export interface ServiceMetrics {
  readonly metrics: OrdoMetrics;
  readonly transport: string;
}

/** The outbox relay's hooks that count what it published and what it has yet to forward. */
export function relayMetricHooks(m: ServiceMetrics | undefined, service: string): Pick<OutboxRelayOptions, 'onPublished' | 'onBacklog'> {
  if (!m) return {};
  const { metrics, transport } = m;
  return {
    onPublished: (messages) => {
      for (const msg of messages) metrics.messagesPublished.inc({ transport, topic: msg.topic });
    },
    onBacklog: (n) => metrics.outboxLag.set({ service }, n),
  };
}
