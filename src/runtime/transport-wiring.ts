import type { Subscription, Transport } from '../transport/index.js';
import type { SagaEngine } from './saga-engine.js';

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
