import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaTransport, type KafkaTransport, type KafkaTransportOptions } from './kafka.js';
import type { Message } from './message.js';
import { message, runId, uniqueName, waitFor } from './transport-contract.js';
import type { Delivery } from './transport.js';

// Several records of one partition at once (keyed-window.ts) on the real broker: one
// partition, so every bit of concurrency comes from within it.
const brokers = [process.env.ORDO_KAFKA_BROKER ?? '127.0.0.1:9092'];
const options = (concurrencyPerPartition: number): KafkaTransportOptions => ({ brokers, partitions: 1, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, redeliveryDelayMs: 20, concurrencyPerPartition, clientId: `ordo-test-${randomUUID().slice(0, 6)}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqOf = (d: Delivery) => (d.message.payload as { seq: number }).seq;

afterAll(async () => {
  const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: brokers });
  try {
    const mine = (await admin.listTopics()).filter((t) => t.includes(runId) && t.startsWith('kc-'));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.close();
  }
});

/** Interleaved keys: seq 0 of every key, then seq 1 of every key, … */
function interleaved(topic: string, keys: number, perKey: number): Message[] {
  const all: Message[] = [];
  for (let seq = 0; seq < perKey; seq++) for (let k = 0; k < keys; k++) all.push(message(topic, `order-${k}`, seq));
  return all;
}

/** Runs `all` through one subscription; records per key order, the largest number of handlers at once overall and per key. */
async function run(t: KafkaTransport, all: readonly Message[]): Promise<{ order: string[]; perKey: Map<string, number[]>; most: number; mostPerKey: number }> {
  const topic = all[0]?.topic as string;
  const perKey = new Map<string, number[]>();
  const order: string[] = [];
  const inFlight = new Map<string, number>();
  let now = 0;
  let most = 0;
  let mostPerKey = 0;
  await t.subscribe({
    topic,
    group: uniqueName('g'),
    handler: async (d) => {
      const key = d.message.key;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      now += 1;
      most = Math.max(most, now);
      mostPerKey = Math.max(mostPerKey, inFlight.get(key) ?? 0);
      await sleep(Math.random() * 8);
      now -= 1;
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      order.push(d.message.id);
      perKey.set(key, [...(perKey.get(key) ?? []), seqOf(d)]);
    },
  });
  for (let i = 0; i < all.length; i += 50) await t.publish(all.slice(i, i + 50));
  await waitFor('every message', () => order.length >= all.length, 60_000);
  return { order, perKey, most, mostPerKey };
}

describe('kafka: several records of a partition at once', () => {
  it('keeps every key in order, one at a time, while handling many keys at once (random handler delays)', async () => {
    const t = await createKafkaTransport(options(8));
    try {
      const keys = 25;
      const perKey = 6;
      const r = await run(t, interleaved(uniqueName('kc-order'), keys, perKey));
      for (let k = 0; k < keys; k++) expect(r.perKey.get(`order-${k}`), `order-${k}`).toEqual(Array.from({ length: perKey }, (_, i) => i));
      expect(r.mostPerKey).toBe(1);
      expect(r.most).toBeGreaterThan(1);
      expect(r.most).toBeLessThanOrEqual(8);
    } finally {
      await t.close();
    }
  });

  it('with concurrencyPerPartition 1 handles one record at a time in offset order, as before', async () => {
    const t = await createKafkaTransport(options(1));
    try {
      const all = interleaved(uniqueName('kc-serial'), 5, 4);
      const r = await run(t, all);
      expect(r.most).toBe(1);
      expect(r.order).toEqual(all.map((m) => m.id));
    } finally {
      await t.close();
    }
  });

  it('commits no offset past an unfinished record: after a stop, the next member gets it and the inbox absorbs what came again', async () => {
    const topic = uniqueName('kc-gap');
    const group = uniqueName('g');
    const all = [message(topic, 'slow', 0), ...Array.from({ length: 12 }, (_, i) => message(topic, `fast-${i}`, i + 1))];
    const slowId = all[0]?.id;
    const inbox = new Set<string>(); // what a service's inbox does: one effect per message id
    const effects: string[] = [];
    const deliveries: string[] = [];
    const handle = (failSlow: boolean) => (d: Delivery) => {
      deliveries.push(d.message.id);
      if (failSlow && d.message.id === slowId) return Promise.reject(new Error('not yet'));
      if (!inbox.has(d.message.id)) {
        inbox.add(d.message.id);
        effects.push(d.message.id);
      }
      return Promise.resolve();
    };
    const first = await createKafkaTransport(options(8));
    try {
      await first.subscribe({ topic, group, maxDeliver: 1_000_000, handler: handle(true) });
      await first.publish(all);
      await waitFor('every record after the slow one', () => effects.length === all.length - 1, 60_000);
    } finally {
      await first.close(); // stops while the first record is still failing: it was never finished
    }
    const firstRound = deliveries.length;
    const second = await createKafkaTransport(options(8));
    try {
      await second.subscribe({ topic, group, handler: handle(false) });
      await waitFor('the slow record, on the next member', () => inbox.has(slowId as string), 60_000);
      await waitFor('the records after it, again', () => deliveries.length - firstRound >= all.length, 60_000);
    } finally {
      await second.close();
    }
    // Nothing lost, nothing with two effects; the later records came again because their offsets were never committed past the gap.
    expect([...effects].sort()).toEqual(all.map((m) => m.id).sort());
    expect(new Set(deliveries.slice(firstRound))).toEqual(new Set(all.map((m) => m.id)));
  });
});
