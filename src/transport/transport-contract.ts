// The one conformance suite every transport runs (DESIGN.md §4): in-process.test.ts,
// nats.int.test.ts and kafka.int.test.ts call describeTransportContract with their factory.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvalidTransportNameError, TransportClosedError } from './errors.js';
import type { Message } from './message.js';
import type { DeadLetter, Delivery, Transport } from './transport.js';

export interface ContractHarness {
  /** A fresh transport; each test closes the ones it creates. */
  create(): Promise<Transport>;
  /**
   * Whether the broker itself drops a re-publish of the same message id within its dedup
   * window (in-process, NATS: yes; Kafka: no, the idempotent producer only dedups its own
   * retries, so the consumer's inbox absorbs app-level re-publishes).
   */
  readonly brokerDedup: boolean;
  /**
   * A second member on the same broker, as another process would have. Defaults to
   * `create()`; the in-process transport returns the same instance (there is no broker).
   */
  peer?(first: Transport): Promise<Transport>;
  /** Removes what the run created on the broker (streams, topics). */
  cleanup?(): Promise<void>;
}

/** Part of every name this run creates, so cleanup can find them. */
export const runId = randomUUID().slice(0, 8);
let counter = 0;
/** Topic and group names unique to this run so parallel runs never share state. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${runId}-${counter}`;
}

export function message(topic: string, key: string, seq: number, extra: Partial<Message> = {}): Message {
  return { id: randomUUID(), topic, key, type: 'Test', payload: { seq }, headers: {}, ...extra };
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A handler that does `fn` and acks (resolves). */
export const acking =
  (fn: (d: Delivery) => unknown) =>
  (d: Delivery): Promise<void> => {
    fn(d);
    return Promise.resolve();
  };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqOf = (d: Delivery) => (d.message.payload as { seq: number }).seq;

export function describeTransportContract(name: string, harness: ContractHarness): void {
  describe(`transport contract: ${name}`, () => {
    const open: Transport[] = [];
    async function transport(): Promise<Transport> {
      const t = await harness.create();
      open.push(t);
      return t;
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });
    afterAll(async () => {
      await harness.cleanup?.();
    });

    it('delivers every published message with its key, type and payload, and acks it', async () => {
      const t = await transport();
      const topic = uniqueName('basic');
      const group = uniqueName('g');
      const got: Delivery[] = [];
      await t.subscribe({ topic, group, handler: acking((d) => got.push(d)) });
      const sent = Array.from({ length: 10 }, (_, i) => message(topic, `k${i % 3}`, i, { type: `T${i}` }));
      await t.publish(sent);
      await waitFor('10 deliveries', () => got.length >= 10);
      await sleep(200); // nothing more may arrive: each was acked once
      expect(got).toHaveLength(10);
      for (const m of sent) {
        const d = got.find((x) => x.message.id === m.id);
        expect(d?.attempt).toBe(1);
        expect(d?.message).toMatchObject({ id: m.id, topic, key: m.key, type: m.type, payload: m.payload });
      }
    });

    it('redelivers a message whose handler throws, counting attempts', async () => {
      const t = await transport();
      const topic = uniqueName('retry');
      const group = uniqueName('g');
      const attempts: number[] = [];
      let done = false;
      await t.subscribe({
        topic,
        group,
        maxDeliver: 5,
        handler: (d) => {
          attempts.push(d.attempt);
          if (d.attempt < 3) return Promise.reject(new Error(`transient failure ${d.attempt}`));
          done = true;
          return Promise.resolve();
        },
      });
      await t.publish([message(topic, 'k', 1)]);
      await waitFor('success on the third attempt', () => done);
      expect(attempts).toEqual([1, 2, 3]);
    });

    it('dead-letters after maxDeliver attempts with the reason, then goes on with the key', async () => {
      const t = await transport();
      const topic = uniqueName('dead');
      const group = uniqueName('g');
      const dead: DeadLetter[] = [];
      const handled: number[] = [];
      const poison = message(topic, 'k', 1);
      await t.subscribe({
        topic,
        group,
        maxDeliver: 2,
        onDeadLetter: (d) => void dead.push(d),
        handler: (d) => {
          if (d.message.id === poison.id) return Promise.reject(new Error('payment provider said no'));
          handled.push(seqOf(d));
          return Promise.resolve();
        },
      });
      await t.publish([poison, message(topic, 'k', 2)]);
      await waitFor('the next message of the key', () => handled.length === 1);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ group, attempts: 2, reason: 'payment provider said no' });
      expect(dead[0]?.message.id).toBe(poison.id);
      expect(handled).toEqual([2]);
    });

    it('keeps per-key order with two consumers in one group and interleaved keys', async () => {
      const t1 = await transport();
      const t2 = harness.peer ? await harness.peer(t1) : await transport();
      const topic = uniqueName('order');
      const group = uniqueName('g');
      const keys = Array.from({ length: 12 }, (_, i) => `order-${i}`);
      const perKey = 15;
      const seen = new Set<string>();
      const sequence = new Map<string, number[]>();
      const inFlight = new Map<string, number>();
      let maxInFlight = 0;
      const byMember = [0, 0];
      const handler = (member: 0 | 1) => async (d: Delivery) => {
        const key = d.message.key;
        const now = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, now);
        maxInFlight = Math.max(maxInFlight, now);
        await sleep(Math.random() * 3);
        inFlight.set(key, now - 1);
        // What an inbox does: a redelivered id (possible at a rebalance) has no second effect.
        if (seen.has(d.message.id)) return;
        seen.add(d.message.id);
        byMember[member] = (byMember[member] ?? 0) + 1;
        const list = sequence.get(key) ?? [];
        list.push(seqOf(d));
        sequence.set(key, list);
      };
      await t1.subscribe({ topic, group, handler: handler(0) });
      await t2.subscribe({ topic, group, handler: handler(1) });
      // Interleaved keys, published in several batches as an outbox relay would.
      const all: Message[] = [];
      for (let seq = 0; seq < perKey; seq++) for (const key of keys) all.push(message(topic, key, seq));
      for (let i = 0; i < all.length; i += 40) await t1.publish(all.slice(i, i + 40));
      await waitFor('every message', () => seen.size === all.length);
      for (const key of keys) expect(sequence.get(key)).toEqual(Array.from({ length: perKey }, (_, i) => i));
      expect(maxInFlight).toBe(1);
      expect(byMember[0]).toBeGreaterThan(0);
      expect(byMember[1]).toBeGreaterThan(0);
    });

    it('gives every group every message', async () => {
      const t = await transport();
      const topic = uniqueName('groups');
      const a: string[] = [];
      const b: string[] = [];
      await t.subscribe({ topic, group: uniqueName('billing'), handler: acking((d) => a.push(d.message.id)) });
      await t.subscribe({ topic, group: uniqueName('shipping'), handler: acking((d) => b.push(d.message.id)) });
      const sent = Array.from({ length: 20 }, (_, i) => message(topic, `k${i % 4}`, i));
      await t.publish(sent);
      await waitFor('both groups', () => a.length >= 20 && b.length >= 20);
      const ids = sent.map((m) => m.id).sort();
      expect([...new Set(a)].sort()).toEqual(ids);
      expect([...new Set(b)].sort()).toEqual(ids);
    });

    it(
      harness.brokerDedup
        ? 'delivers a message published twice within the dedup window once'
        : 'delivers an app-level re-publish again (no broker dedup): the inbox must absorb it',
      async () => {
        const t = await transport();
        const topic = uniqueName('dedup');
      const group = uniqueName('g');
        const got: string[] = [];
        await t.subscribe({ topic, group, handler: acking((d) => got.push(d.message.id)) });
        const m = message(topic, 'k', 1);
        const marker = message(topic, 'k', 2);
        await t.publish([m]);
        await t.publish([m]); // e.g. the outbox relay retrying after a lost publish ack
        await t.publish([marker]);
        await waitFor('the marker after the duplicate', () => got.includes(marker.id));
        expect(got.filter((id) => id === m.id)).toHaveLength(harness.brokerDedup ? 1 : 2);
        expect(new Set(got)).toEqual(new Set([m.id, marker.id]));
      },
    );

    it('carries headers and nested payloads unchanged', async () => {
      const t = await transport();
      const topic = uniqueName('headers');
      const group = uniqueName('g');
      const got: Delivery[] = [];
      await t.subscribe({ topic, group, handler: acking((d) => got.push(d)) });
      const sent = message(topic, 'order-42', 1, {
        type: 'InventoryReserved',
        payload: { reservationId: 'r-1', items: [{ sku: 'A', quantity: 2 }], note: 'ünïcødé ✓', none: null },
        headers: {
          causationId: 'cause-1',
          correlationId: 'order-42',
          machineVersion: '3',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          'x-tenant': 'acme',
        },
      });
      await t.publish([sent]);
      await waitFor('the message', () => got.length === 1);
      expect(got[0]?.message).toEqual(sent);
    });

    it('rejects names the brokers cannot carry', async () => {
      const t = await transport();
      await expect(t.publish([message('bad.topic', 'k', 1)])).rejects.toBeInstanceOf(InvalidTransportNameError);
      await expect(t.subscribe({ topic: 'ok', group: 'bad group', handler: acking(() => undefined) })).rejects.toBeInstanceOf(InvalidTransportNameError);
    });

    it('closes cleanly: a running handler finishes, then nothing more is delivered or published', async () => {
      const t = await transport();
      const topic = uniqueName('close');
      const group = uniqueName('g');
      let started = false;
      let finished = false;
      let release: () => void = () => undefined;
      const sub = await t.subscribe({
        topic,
        group,
        handler: async () => {
          started = true;
          await new Promise<void>((r) => (release = r));
          finished = true;
        },
      });
      await t.publish([message(topic, 'k', 1)]);
      await waitFor('the handler to start', () => started);
      const closing = sub.close();
      setTimeout(() => release(), 50);
      await closing;
      expect(finished).toBe(true);
      await t.close();
      await expect(t.publish([message(topic, 'k', 2)])).rejects.toBeInstanceOf(TransportClosedError);
      expect(t.status().connected).toBe(false);
    });
  });
}
