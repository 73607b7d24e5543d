import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createInProcessTransport } from './in-process.js';
import { createKafkaTransport } from './kafka.js';
import { namespacedTransport } from './namespaced.js';
import { message, runId, uniqueName, waitFor } from './transport-contract.js';
import type { DeadLetter, Delivery, Transport } from './transport.js';

const brokers = [process.env.ORDO_KAFKA_BROKER ?? '127.0.0.1:9092'];
const nsA = `a${runId.replace(/-/g, '')}`;
const nsB = `b${runId.replace(/-/g, '')}`;

afterAll(async () => {
  const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: brokers });
  try {
    const mine = (await admin.listTopics()).filter((t) => t.includes(runId.replace(/-/g, '')) || t.includes(runId));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.close();
  }
});

interface TwoSystems {
  readonly a: Transport;
  readonly b: Transport;
  readonly close: () => Promise<void>;
}

async function twoSystems(open: () => Promise<Transport>, a: string, b: string): Promise<TwoSystems> {
  const ta = namespacedTransport(await open(), a);
  const tb = namespacedTransport(await open(), b);
  return { a: ta, b: tb, close: async () => void (await Promise.all([ta.close(), tb.close()])) };
}

for (const [name, open] of [
  ['in-process (one broker shared by both)', (() => {
    const shared = createInProcessTransport({ redeliveryDelayMs: 10 });
    const view: Transport = { kind: 'inprocess', publish: (m) => shared.publish(m), subscribe: (o) => shared.subscribe(o), status: () => shared.status(), close: () => Promise.resolve() };
    return () => Promise.resolve(view);
  })()],
  ['kafka', () => createKafkaTransport({ brokers, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, redeliveryDelayMs: 20 })],
] as const) {
  describe(`namespaced transport: ${name}`, () => {
    it('keeps two systems with the same topics and groups apart, and shows each its logical topic', async () => {
      const { a, b, close } = await twoSystems(open, nsA, nsB);
      const topic = uniqueName('orders');
      const group = 'inventory'; // the same group name in both systems
      const gotA: Delivery[] = [];
      const gotB: Delivery[] = [];
      try {
        await a.subscribe({ topic, group, handler: (d) => Promise.resolve(void gotA.push(d)) });
        await b.subscribe({ topic, group, handler: (d) => Promise.resolve(void gotB.push(d)) });
        await a.publish([message(topic, 'order-1', 1)]);
        await b.publish([message(topic, 'order-2', 1), message(topic, 'order-3', 1)]);
        await waitFor('both systems to get their own messages', () => gotA.length >= 1 && gotB.length >= 2);
        await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
        expect(gotA.map((d) => d.message.key)).toEqual(['order-1']);
        expect(gotB.map((d) => d.message.key).sort()).toEqual(['order-2', 'order-3']);
        expect(gotA[0]?.message.topic).toBe(topic);
      } finally {
        await close();
      }
    }, 120_000);

    it('dead letters carry the logical topic and group', async () => {
      const { a, close } = await twoSystems(open, nsA, nsB);
      const topic = uniqueName('poison');
      const dead: DeadLetter[] = [];
      try {
        await a.subscribe({ topic, group: 'payment', maxDeliver: 2, handler: () => Promise.reject(new Error('bad card')), onDeadLetter: (d) => void dead.push(d) });
        await a.publish([message(topic, 'order-9', 1)]);
        await waitFor('the dead letter', () => dead.length === 1);
        expect(dead[0]).toMatchObject({ group: 'payment', reason: 'bad card', message: { topic, key: 'order-9' } });
      } finally {
        await close();
      }
    }, 120_000);
  });
}

describe('namespaced transport: names', () => {
  it('refuses a namespace that is not a valid name', () => {
    expect(() => namespacedTransport(createInProcessTransport(), 'no spaces')).toThrow(/namespace/);
  });
});
