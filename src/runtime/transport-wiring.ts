import type { RelayMessage, StoredMessage } from '../store/index.js';
import type { Subscription, Transport } from '../transport/index.js';
import type { SagaEngine } from './saga-engine.js';

/**
 * How the outbox relay should turn the engine's log messages into transport messages
 * (pass as `startOutboxRelay({ toMessages: sagaRelayMessage })`): messages with a `topic`
 * go out, keyed by saga id, and every scalar metadata entry (step, compensation, attempt,
 * causationId, machineVersion…) becomes a string header — services need `attempt` to
 * answer a StepFailed for the right send.
 */
export function sagaRelayMessage(m: StoredMessage): RelayMessage | null {
  const { topic, key, ...rest } = m.metadata;
  if (typeof topic !== 'string' || topic.length === 0) return null;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
  return { id: m.id, topic, key: typeof key === 'string' && key.length > 0 ? key : m.stream, type: m.type, payload: m.data, headers };
}

/**
 * Feeds a topic of replies/events into the engine. A delivery is acked once the batch
 * holding it committed; a message the engine could not even read (rejected) is thrown
 * back so the transport redelivers and finally dead-letters it. Poison *events* are
 * dead-lettered by the engine itself and acked.
 */
export function subscribeSagaEngine(engine: Pick<SagaEngine, 'deliver'>, transport: Transport, options: { topic: string; group?: string; maxDeliver?: number }): Promise<Subscription> {
  return transport.subscribe({
    topic: options.topic,
    group: options.group ?? 'ordo-saga-engine',
    ...(options.maxDeliver === undefined ? {} : { maxDeliver: options.maxDeliver }),
    handler: async ({ message }) => {
      const [r] = await engine.deliver([message]);
      if (r?.status === 'rejected') throw r.error;
    },
  });
}
