import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { Admin, Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { createKafkaTransport, createNatsTransport, type Message, type Transport } from '../src/transport/index.js';
import { partitionOf } from '../src/transport/partition.js';
import { machineDescription, percentile, progress, summarise, type BenchResult, type BenchRun } from './result.js';
import type { BenchOptions } from './bench-options.js';

/*
 * `ordo bench transport`: messages/s published (awaiting the broker's ack) and consumed
 * with ack/commit through ordo's NATS and Kafka transports, beside the raw client doing
 * the same work in the same run: the same messages (JSON payload, key, ~5 headers) in the
 * same batches, publish confirmed by the broker, consume acked (NATS: explicit ack per
 * message; Kafka: offsets committed). Latency = one publish batch (BATCH messages) until
 * the broker confirmed all of it.
 *
 * What differs, on purpose: ordo's NATS consumer keeps per-key order across a group's
 * members (one durable per partition held by one member through a lease, a chain per key)
 * where the raw reference is one durable with max_ack_pending 1000 and no order; ordo's Kafka consumer commits only
 * offsets whose handler resolved, the raw one autocommits what it received every 100 ms.
 */

const BATCH = 100;
const WARMUP = 1_000;
/** Rounds per broker; the machines are shared and noisy, so ratios are medians of rounds. */
const ROUNDS = 3;
const NATS_PARTITIONS = 16;
const NATS_URL = process.env.ORDO_NATS_URL ?? '127.0.0.1:4222';
const KAFKA_BROKER = process.env.ORDO_KAFKA_BROKER ?? '127.0.0.1:9092';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function messages(topic: string, n: number): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    topic,
    key: `order-${i % Math.max(1, Math.floor(n / 10))}`,
    type: 'InventoryReserved',
    payload: { orderId: `order-${i}`, reservationId: `r-${i}`, items: [{ sku: `sku-${i % 50}`, quantity: 1 + (i % 3) }] },
    headers: { causationId: randomUUID(), correlationId: `order-${i}`, machineVersion: '3', traceparent: `00-${randomUUID().replace(/-/g, '')}-00f067aa0ba902b7-01` },
  }));
}

interface Measured {
  readonly ops: number;
  readonly seconds: number;
  readonly latencies: number[];
  /** Consume only: ms from subscribing until the first message arrived. */
  readonly startupMs?: number;
}

async function timedBatches(all: readonly Message[], publishBatch: (batch: readonly Message[]) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += BATCH) {
    const s = performance.now();
    await publishBatch(all.slice(i, i + BATCH));
    latencies.push(performance.now() - s);
  }
  return { ops: all.length, seconds: (performance.now() - t0) / 1000, latencies };
}

async function until(count: () => number, n: number, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (count() < n) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} got ${count()} of ${n} messages`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Consume rate in steady state: from the first message handled to the last. Joining the
 * group (ordo: partition leases; Kafka: the group rebalance; raw NATS: creating durables)
 * happens before the first message and is reported apart as startupMs, for both sides alike.
 */
async function timedConsume(n: number, start: (onMessage: () => void) => Promise<() => Promise<void>>, what: string): Promise<Measured> {
  let got = 0;
  let first = 0;
  let last = 0;
  const t0 = performance.now();
  const stop = await start(() => {
    last = performance.now();
    if (got === 0) first = last;
    got += 1;
  });
  await until(() => got, n, what);
  await stop();
  return { ops: n - 1, seconds: (last - first) / 1000, latencies: [], startupMs: first - t0 };
}

async function ordoRuns(label: string, transport: Transport, topic: string, n: number): Promise<{ publish: Measured; consume: Measured }> {
  const all = messages(topic, n);
  progress(`${label}: publishing ${n}`);
  const publish = await timedBatches(all, (batch) => transport.publish(batch));
  progress(`${label}: consuming ${n}`);
  const consume = await timedConsume(
    n,
    async (onMessage) => {
      const sub = await transport.subscribe({ topic, group: `bench-${randomUUID().slice(0, 8)}`, handler: () => (onMessage(), Promise.resolve()) });
      return () => sub.close();
    },
    label,
  );
  return { publish, consume };
}

async function natsRaw(stream: string, n: number): Promise<{ publish: Measured; consume: Measured; consumeSameLayout: Measured }> {
  // The same client settings ordo uses (no async stack traces), so the ratio is ordo's own cost.
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const js: JetStreamClient = jetstream(nc);
  const all = messages('raw', n);
  const enc = new TextEncoder();
  progress(`nats raw: publishing ${n}`);
  const publish = await timedBatches(all, async (batch) => {
    await Promise.all(
      batch.map((m) => {
        const h = natsHeaders();
        h.set('Ordo-Type', m.type);
        for (const [k, v] of Object.entries(m.headers)) if (v !== undefined) h.set(k, v);
        return js.publish(`${stream}.raw.${partitionOf(m.key, NATS_PARTITIONS)}`, enc.encode(JSON.stringify(m.payload)), { msgID: m.id, headers: h });
      }),
    );
  });
  progress(`nats raw: consuming ${n}`);
  const consume = await timedConsume(
    n,
    async (onMessage) => {
      await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000 });
      const iter = await (await js.consumers.get(stream, 'raw')).consume({ max_messages: 500 });
      const loop = (async () => {
        for await (const m of iter) {
          JSON.parse(new TextDecoder().decode(m.data));
          onMessage();
          m.ack();
        }
      })();
      return async () => {
        iter.stop();
        await loop;
      };
    },
    'nats raw',
  );
  progress(`nats raw, ordo's layout: consuming ${n}`);
  // The raw client pulling ordo's layout: one durable per partition, 256 in flight each, no per-key order.
  const consumeSameLayout = await timedConsume(
    n,
    async (onMessage) => {
      const loops: Promise<void>[] = [];
      const iters: { stop(): void }[] = [];
      for (let p = 0; p < NATS_PARTITIONS; p++) {
        await jsm.consumers.add(stream, { durable_name: `raw_p${p}`, filter_subject: `${stream}.raw.${p}`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 256 });
        const iter = await (await js.consumers.get(stream, `raw_p${p}`)).consume({ max_messages: 128 });
        iters.push(iter);
        loops.push(
          (async () => {
            for await (const m of iter) {
              JSON.parse(new TextDecoder().decode(m.data));
              onMessage();
              m.ack();
            }
          })(),
        );
      }
      return async () => {
        for (const it of iters) it.stop();
        await Promise.all(loops);
      };
    },
    'nats raw same layout',
  );
  await jsm.streams.delete(stream);
  await nc.drain();
  return { publish, consume, consumeSameLayout };
}

async function kafkaRaw(topic: string, n: number): Promise<{ publish: Measured; consume: Measured }> {
  const base = { clientId: 'ordo-bench-raw', bootstrapBrokers: [KAFKA_BROKER] };
  const admin = new Admin(base);
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  const producer = new Producer({ ...base, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL });
  const all = messages(topic, n);
  progress(`kafka raw: publishing ${n}`);
  const publish = await timedBatches(all, async (batch) => {
    await producer.send({
      messages: batch.map((m) => ({ topic, key: m.key, value: JSON.stringify(m.payload), headers: new Map<string, string>([['ordo-id', m.id], ['ordo-type', m.type], ...Object.entries(m.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, v] as [string, string]]))]) })),
    });
  });
  progress(`kafka raw: consuming ${n}`);
  const consume = await timedConsume(
    n,
    async (onMessage) => {
      const consumer = new Consumer({ ...base, groupId: `raw-${randomUUID().slice(0, 8)}`, deserializers: stringDeserializers, sessionTimeout: 6_000, heartbeatInterval: 500 });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 100, maxWaitTime: 200 });
      stream.on('data', (r) => {
        JSON.parse(r.value);
        onMessage();
      });
      return async () => {
        await stream.close();
        await consumer.close();
      };
    },
    'kafka raw',
  );
  await producer.close();
  await admin.deleteTopics({ topics: [topic] });
  await admin.close();
  return { publish, consume };
}

interface Round<T> {
  readonly raw: T;
  readonly ordo: { publish: Measured; consume: Measured };
}

const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** One line for several rounds: the median rate, latency percentiles over every round's batches. */
function medianRun(name: string, rounds: readonly Measured[]): BenchRun {
  const base = summarise(name, 0, 0, rounds.flatMap((m) => m.latencies));
  const startups = rounds.flatMap((m) => (m.startupMs === undefined ? [] : [m.startupMs]));
  return { ...base, opsPerSec: median(rounds.map(rate)), ...(startups.length > 0 ? { startupMs: Math.round(median(startups)) } : {}) };
}

function rate(m: Measured): number {
  return m.ops / m.seconds;
}

function endToEnd(r: { publish: Measured; consume: Measured }): number {
  return r.publish.ops / (r.publish.seconds + r.consume.seconds);
}

const suite = async (options: BenchOptions): Promise<BenchResult> => {
  const n = Math.max(BATCH, Math.round(50_000 * options.scale));
  const id = randomUUID().slice(0, 8);
  const runs: BenchRun[] = [];
  const ratios: Record<string, number> = {};

  // Each side runs once small to warm up (JIT, connections, group coordinator), then measured.
  const natsOnce = async (size: number, tag: string) => {
    const raw = await natsRaw(`BENCH_RAW_${id}_${tag}`, size);
    const stream = `BENCH_ORDO_${id}_${tag}`;
    const nats = await createNatsTransport({ servers: NATS_URL, stream, logger: quiet });
    const ordo = await ordoRuns('nats ordo', nats, `bench-${id}`, size);
    await nats.close();
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream);
    await nc.drain();
    return { raw, ordo };
  };
  await natsOnce(WARMUP, 'warm');
  const nats: Round<{ publish: Measured; consume: Measured; consumeSameLayout: Measured }>[] = [];
  for (let r = 0; r < ROUNDS; r++) nats.push(await natsOnce(n, `r${r}`));
  runs.push(
    medianRun('nats raw publish (batch of 100)', nats.map((x) => x.raw.publish)),
    medianRun('nats ordo publish (batch of 100)', nats.map((x) => x.ordo.publish)),
    medianRun('nats raw consume+ack', nats.map((x) => x.raw.consume)),
    medianRun('nats ordo consume+ack', nats.map((x) => x.ordo.consume)),
    medianRun(`nats raw consume+ack, ordo's layout (${NATS_PARTITIONS} durables, max_ack_pending 256, no order)`, nats.map((x) => x.raw.consumeSameLayout)),
  );
  const natsRatios = {
    natsConsumeVsRawSameLayout: nats.map((x) => rate(x.ordo.consume) / rate(x.raw.consumeSameLayout)),
    natsPublishVsRaw: nats.map((x) => rate(x.ordo.publish) / rate(x.raw.publish)),
    natsConsumeVsRaw: nats.map((x) => rate(x.ordo.consume) / rate(x.raw.consume)),
    natsVsRaw: nats.map((x) => endToEnd(x.ordo) / endToEnd(x.raw)),
  };

  const kafkaOnce = async (size: number, tag: string) => {
    const raw = await kafkaRaw(`bench-raw-${id}-${tag}`, size);
    const kafka = await createKafkaTransport({ brokers: [KAFKA_BROKER], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, logger: quiet });
    const topic = `bench-ordo-${id}-${tag}`;
    const ordo = await ordoRuns('kafka ordo', kafka, topic, size);
    await kafka.close();
    const admin = new Admin({ clientId: 'ordo-bench', bootstrapBrokers: [KAFKA_BROKER] });
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
    await admin.close();
    return { raw, ordo };
  };
  await kafkaOnce(WARMUP, 'warm');
  const kafka: Round<{ publish: Measured; consume: Measured }>[] = [];
  for (let r = 0; r < ROUNDS; r++) kafka.push(await kafkaOnce(n, `r${r}`));
  runs.push(
    medianRun('kafka raw publish (batch of 100)', kafka.map((x) => x.raw.publish)),
    medianRun('kafka ordo publish (batch of 100)', kafka.map((x) => x.ordo.publish)),
    medianRun('kafka raw consume+commit', kafka.map((x) => x.raw.consume)),
    medianRun('kafka ordo consume+commit', kafka.map((x) => x.ordo.consume)),
  );
  const kafkaRatios = {
    kafkaPublishVsRaw: kafka.map((x) => rate(x.ordo.publish) / rate(x.raw.publish)),
    kafkaConsumeVsRaw: kafka.map((x) => rate(x.ordo.consume) / rate(x.raw.consume)),
    kafkaVsRaw: kafka.map((x) => endToEnd(x.ordo) / endToEnd(x.raw)),
  };
  const perRound: string[] = [];
  for (const [name, values] of Object.entries({ ...natsRatios, ...kafkaRatios })) {
    ratios[name] = median(values);
    perRound.push(`${name} ${values.map((v) => v.toFixed(2)).join(' / ')}`);
  }

  return {
    suite: 'transport',
    machine: machineDescription(),
    runs,
    ratios,
    notes: [
      `${ROUNDS} rounds of raw then ordo per broker after a warm-up; each rate and ratio is the median of the rounds (per round: ${perRound.join('; ')})`,
      `${n} messages, ${Math.floor(n / 10)} keys, publish in batches of ${BATCH}; natsVsRaw/kafkaVsRaw = end to end (publish then consume) messages/s`,
      'consume rates are steady state, first message to last; the time from subscribing to the first message (joining the group: leases, rebalance, durables) is each run\'s startupMs',
      'ordo NATS consume keeps per-key order across group members (16 partition durables, each held by one member, a chain per key); raw is one unordered durable with max_ack_pending 1000; natsConsumeVsRawSameLayout compares with the raw client pulling ordo\'s 16 durables without order',
      'ordo Kafka commits only handled offsets; raw autocommits received offsets every 100 ms',
    ],
  };
};

export default suite;
