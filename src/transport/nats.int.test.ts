import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { createNatsTransport } from './nats.js';
import type { DeadLetter } from './transport.js';
import { acking, describeTransportContract, message, uniqueName, waitFor } from './transport-contract.js';

const servers = process.env.ORDO_NATS_URL ?? '127.0.0.1:4222';
const stream = `ORDO_T_${randomUUID().slice(0, 8)}`;

async function deleteStream(name: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    await (await jetstreamManager(nc)).streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

describeTransportContract('nats', {
  create: () => createNatsTransport({ servers, stream, partitions: 4, ackWaitMs: 5_000, redeliveryDelayMs: 20 }),
  brokerDedup: true,
  cleanup: () => deleteStream(stream),
});

describe('nats transport', () => {
  it('lays a key out on one partition subject and records dead letters in the stream with the reason', async () => {
    const own = `${stream}_DL`;
    const t = await createNatsTransport({ servers, stream: own, partitions: 4, redeliveryDelayMs: 10 });
    try {
      expect(t.subjectFor('order-events', 'o-1')).toBe(t.subjectFor('order-events', 'o-1'));
      expect(t.subjectFor('order-events', 'o-1')).toMatch(new RegExp(`^${own}\\.order-events\\.[0-3]$`));
      const topic = uniqueName('dlq');
      await t.subscribe({ topic, group: 'g', maxDeliver: 2, handler: () => Promise.reject(new Error('card declined')) });
      const poison = message(topic, 'k', 1);
      await t.publish([poison]);
      const nc = await connect({ servers });
      try {
        const js = (await jetstreamManager(nc)).jetstream();
        const consumer = await js.consumers.get(own, { filter_subjects: t.deadLetterSubject(topic) });
        const dead = await consumer.next({ expires: 20_000 });
        expect(dead?.headers?.get('Ordo-Dead-Reason')).toBe('card declined');
        expect(dead?.headers?.get('Ordo-Dead-Group')).toBe('g');
        expect(dead?.headers?.get('Ordo-Dead-Attempts')).toBe('2');
        expect(dead?.headers?.get('Ordo-Dead-Id')).toBe(poison.id);
      } finally {
        await nc.close();
      }
    } finally {
      await t.close();
      await deleteStream(own);
    }
  });

  it('delivers a re-publish again once the duplicate window has passed (the inbox must absorb it)', async () => {
    const own = `${stream}_DW`;
    const t = await createNatsTransport({ servers, stream: own, partitions: 2, dedupWindowMs: 300 });
    try {
      const topic = uniqueName('window');
      const got: string[] = [];
      await t.subscribe({ topic, group: uniqueName('g'), handler: acking((d) => got.push(d.message.id)) });
      const m = message(topic, 'k', 1);
      await t.publish([m]);
      await t.publish([m]); // inside the window: dropped by the broker
      await new Promise((r) => setTimeout(r, 700));
      expect(got).toEqual([m.id]);
      await t.publish([m]); // outside it: stored again
      await waitFor('the second delivery', () => got.length === 2);
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toEqual([m.id, m.id]);
    } finally {
      await t.close();
      await deleteStream(own);
    }
  });

  it('dead-letters a message whose consumers keep dying before the ack (delivery maxDeliver + 1) with the reason', async () => {
    const own = `${stream}_CL`;
    const t = await createNatsTransport({ servers, stream: own, partitions: 1, ackWaitMs: 1_000 });
    const nc = await connect({ servers });
    try {
      const topic = uniqueName('crashloop');
      const group = uniqueName('g');
      const dead: DeadLetter[] = [];
      // Creates the group's durable, then leaves: the "crashing" deliveries are simulated below.
      await (await t.subscribe({ topic, group, maxDeliver: 2, handler: () => Promise.resolve() })).close();
      const poison = message(topic, 'k', 1);
      await t.publish([poison]);
      // Two deliveries that are never acked, as if the consumer process died each time.
      const consumer = await (await jetstreamManager(nc)).jetstream().consumers.get(own, `${group}__${topic}__0`);
      for (let i = 1; i <= 2; i++) {
        const m = await consumer.next({ expires: 5_000 });
        expect(m?.info.deliveryCount).toBe(i);
      }
      const handled: number[] = [];
      await t.subscribe({ topic, group, maxDeliver: 2, onDeadLetter: (d) => void dead.push(d), handler: acking((d) => handled.push(d.attempt)) });
      await waitFor('the dead letter', () => dead.length === 1);
      expect(handled).toEqual([]); // the handler is not run a third time
      expect(dead[0]).toMatchObject({ group, attempts: 2 });
      expect(dead[0]?.reason).toMatch(/not acked after 2 deliveries/);
    } finally {
      await nc.close();
      await t.close();
      await deleteStream(own);
    }
  });
});
