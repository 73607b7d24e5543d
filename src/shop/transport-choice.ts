import type { Logger } from '../observe/index.js';
import type { Transport, TransportStatus } from '../transport/index.js';

export type TransportChoice = { kind: 'inprocess' } | { kind: 'nats'; servers: string; stream?: string; ackWaitMs?: number } | { kind: 'kafka'; brokers: string[]; clientId?: string; namespace?: string };

/** Opens the transport the flags chose (`--nats URL`, `--kafka HOST:PORT`, else in-process). */
export async function openTransport(choice: TransportChoice, log: Logger, onStatus?: (s: TransportStatus) => void): Promise<Transport> {
  const logger = log;
  // Loaded only when a shop opens its transport: the brokers' clients take seconds to load,
  // and `ordo diagram`, `ordo verify` and the tests that only use the shop's machine need none.
  const { createInProcessTransport, createKafkaTransport, createNatsTransport, namespacedTransport } = await import('../transport/index.js');
  switch (choice.kind) {
    case 'inprocess':
      return createInProcessTransport({ redeliveryDelayMs: 50 });
    case 'nats':
      return createNatsTransport({ servers: choice.servers, ...(choice.stream ? { stream: choice.stream } : {}), ...(choice.ackWaitMs ? { ackWaitMs: choice.ackWaitMs } : {}), name: 'ordo', logger, ...(onStatus ? { onStatus } : {}) });
    case 'kafka': {
      const kafka = await createKafkaTransport({ brokers: choice.brokers, clientId: choice.clientId ?? 'ordo', logger, ...(onStatus ? { onStatus } : {}) });
      // Kafka has one flat topic space: the namespace keeps two shops on one cluster apart (NATS gets a stream each).
      return choice.namespace ? namespacedTransport(kafka, choice.namespace) : kafka;
    }
  }
}
