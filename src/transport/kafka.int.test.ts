import { randomUUID } from 'node:crypto';
import { Admin, Consumer, stringDeserializers } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaTransport, type KafkaTransportOptions } from './kafka.js';
import { describeTransportContract, message, runId, uniqueName, waitFor } from './transport-contract.js';

const brokers = [process.env.ORDO_KAFKA_BROKER ?? '127.0.0.1:9092'];
const fast: KafkaTransportOptions = { brokers, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, redeliveryDelayMs: 20 };

/** Deletes every topic this run created (their names carry the run id). */
async function deleteRunTopics(id: string): Promise<void> {
  const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: brokers });
  try {
    const mine = (await admin.listTopics()).filter((t) => t.includes(id));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.close();
  }
}

describeTransportContract('kafka', {
  create: () => createKafkaTransport({ ...fast, clientId: `ordo-test-${randomUUID().slice(0, 6)}` }),
  brokerDedup: false,
});

afterAll(() => deleteRunTopics(runId));

describe('kafka transport', () => {
  it('writes a dead letter to <topic>.dlq with the reason in its headers', async () => {
    const t = await createKafkaTransport(fast);
    const topic = uniqueName('dlq');
    const poison = message(topic, 'order-1', 1, { headers: { correlationId: 'order-1' } });
    try {
      await t.subscribe({ topic, group: uniqueName('g'), maxDeliver: 2, handler: () => Promise.reject(new Error('card declined')) });
      await t.publish([poison]);
      // The DLQ is an ordinary topic holding the original record plus the reason headers.
      const consumer = new Consumer({ clientId: 'dlq-reader', groupId: uniqueName('dlq-reader'), bootstrapBrokers: brokers, deserializers: stringDeserializers });
      const stream = await consumer.consume({ topics: [t.deadLetterTopic(topic)], mode: 'earliest', autocommit: false });
      const dead: { key: string; headers: Record<string, string> }[] = [];
      stream.on('data', (r) => dead.push({ key: r.key, headers: Object.fromEntries(r.headers) }));
      await waitFor('the dead letter', () => dead.length === 1);
      expect(dead[0]?.key).toBe('order-1');
      expect(dead[0]?.headers).toMatchObject({ 'ordo-id': poison.id, 'ordo-dead-reason': 'card declined', 'ordo-dead-attempts': '2', correlationId: 'order-1' });
      await stream.close();
      await consumer.close();
    } finally {
      await t.close();
    }
  });
});
