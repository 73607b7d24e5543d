// Partition ownership on NATS under load: members join and leave while messages flow, and
// every key is still handled in order, one message at a time, with nothing lost.
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from './nats.js';
import { formatTraceEvent, type NatsTraceEvent } from './nats-trace.js';
import { message, waitFor } from './transport-contract.js';
import type { Delivery, Subscription, Transport } from './transport.js';

const servers = process.env.ORDO_NATS_URL ?? '127.0.0.1:4222';
const stream = `ORDO_REBAL_${randomUUID().slice(0, 8)}`;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const transports: Transport[] = [];
/** Every step of every member, printed for the key that came out of order. */
const trace: NatsTraceEvent[] = [];
const lifecycle = new Set<NatsTraceEvent['event']>(['acquire', 'start', 'stop', 'release', 'lost', 'hold', 'open']);

/** The story of one key: its deliveries, handler starts, acks and naks, and what happened to its partition meanwhile. */
function storyOf(key: string): string {
  const partition = trace.find((e) => e.key === key)?.partition;
  const t0 = trace[0]?.at ?? 0;
  const lines = trace.filter((e) => e.key === key || (e.partition === partition && lifecycle.has(e.event))).map((e) => formatTraceEvent(e, t0));
  return `trace of ${key} (partition ${partition}), ${lines.length} events:\n${lines.join('\n')}`;
}

async function transport(): Promise<Transport> {
  const t = await createNatsTransport({ servers, stream, partitions: 6, ackWaitMs: 2_000, leaseTickMs: 200, leaseTtlMs: 1_000, logger: quiet, trace: (e) => trace.push(e) });
  transports.push(t);
  return t;
}

afterAll(async () => {
  await Promise.allSettled(transports.map((t) => t.close()));
  const nc = await connect({ servers });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  await nc.close();
});

describe('nats partition ownership', () => {
  it('moves partitions between members as they join and leave, keeping each key in order', async () => {
    const topic = 'rebalance';
    const group = 'g';
    const keys = Array.from({ length: 24 }, (_, i) => `order-${i}`);
    const perKey = 40;
    const firstSeen = new Map<string, number[]>();
    const handledIds = new Set<string>();
    const inFlight = new Map<string, number>();
    let maxInFlight = 0;
    const byMember = [0, 0, 0];
    const handler = (member: number) => async (d: Delivery) => {
      const key = d.message.key;
      const now = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, now);
      maxInFlight = Math.max(maxInFlight, now);
      await sleep(Math.random() * 2);
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      if (handledIds.has(d.message.id)) return; // what the inbox does with a redelivery
      handledIds.add(d.message.id);
      byMember[member] = (byMember[member] ?? 0) + 1;
      firstSeen.set(key, [...(firstSeen.get(key) ?? []), (d.message.payload as { seq: number }).seq]);
    };

    const publisher = await transport();
    // One message per key per round; rounds go on until the last member has had work too.
    let rounds = 0;
    let enough = false;
    const publishing = (async () => {
      while (rounds < perKey || (!enough && rounds < 2_000)) {
        await publisher.publish(keys.map((key) => message(topic, key, rounds)));
        rounds += 1;
        await sleep(5);
      }
    })();

    const a = await (await transport()).subscribe({ topic, group, handler: handler(0) });
    await waitFor('member a to handle some', () => (byMember[0] ?? 0) > 50);
    const b: Subscription = await (await transport()).subscribe({ topic, group, handler: handler(1) });
    await waitFor('member b to handle some', () => (byMember[1] ?? 0) > 50);
    await b.close();
    const c = await (await transport()).subscribe({ topic, group, handler: handler(2) });
    await a.close();
    await waitFor('member c to handle some', () => (byMember[2] ?? 0) > 50);
    enough = true;
    await publishing;
    await waitFor('every message', () => handledIds.size === rounds * keys.length, 60_000);
    await c.close();

    const inOrder = Array.from({ length: rounds }, (_, i) => i);
    const broken = keys.find((key) => JSON.stringify(firstSeen.get(key)) !== JSON.stringify(inOrder));
    if (broken !== undefined) console.error(storyOf(broken));
    for (const key of keys) expect(firstSeen.get(key), key).toEqual(inOrder);
    expect(maxInFlight).toBe(1);
    expect(byMember.every((n) => n > 0)).toBe(true);
  });
});
