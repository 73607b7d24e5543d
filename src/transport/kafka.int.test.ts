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

  // A broker that comes back without the topics (deleted meanwhile, or another broker's storage
  // behind the same address) used to leave the producer failing with "Unknown topic" for good
  // and every consumer unable to rejoin, silently, while status() said connected.
  it('re-creates a topic that vanished and its subscription resumes, saying so meanwhile', async () => {
    const lines: string[] = [];
    const push = (_: object, msg: string) => void lines.push(msg);
    const t = await createKafkaTransport({ ...fast, logger: { info: push, warn: push, error: push } });
    const topic = uniqueName('vanish');
    const received: string[] = [];
    const first = message(topic, 'k', 1);
    const second = message(topic, 'k', 2);
    const admin = new Admin({ clientId: 'ordo-test-vanish', bootstrapBrokers: brokers });
    try {
      await t.subscribe({ topic, group: uniqueName('g'), handler: ({ message: m }) => {
          received.push(m.id);
          return Promise.resolve();
        },
      });
      await t.publish([first]);
      await waitFor('the first message', () => received.length === 1);

      await admin.deleteTopics({ topics: [topic, t.deadLetterTopic(topic)] });
      for (const until = Date.now() + 30_000; (await admin.listTopics()).includes(topic); await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > until) throw new Error(`${topic} was not deleted`);
      }

      // As an outbox relay does: publish again until it succeeds.
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await t.publish([second]);
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await waitFor('the message published after the topic came back', () => received.includes(second.id));
      expect(received).toEqual([first.id, second.id]);
      expect(lines).toContain('kafka: consumer rejoined');
      await waitFor('status connected', () => t.status().connected);
    } finally {
      await admin.close();
      await t.close();
    }
  });
});
