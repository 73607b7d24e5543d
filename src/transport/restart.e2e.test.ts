// Acceptance: the broker is stopped and started again while 1,000 keyed messages are in
// flight. Every message is handled, none twice (inbox), none lost, each key in order.
// Disruptive to anything else using the local brokers; it leaves them running.
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgresDatabase } from '../store/index.js';
import { startKafka, startNats, stopKafka, stopNats } from './e2e/brokers.js';
import { handleOnce, prepareInbox, summariseEffects } from './e2e/inbox.js';
import { createKafkaTransport } from './kafka.js';
import type { TransportLogger } from './logger.js';
import type { Message } from './message.js';
import { createNatsTransport } from './nats.js';
import { message } from './transport-contract.js';
import type { Transport } from './transport.js';

const adminUrl = process.env.ORDO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const run = randomUUID().slice(0, 8);
const dbName = `ordo_t_transport_restart_${run}`;
const KEYS = 200;
const PER_KEY = 5;
const BATCH = 25;
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await ensurePostgresDatabase(adminUrl, dbName), max: 8 });
  await prepareInbox(pool);
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

/** Records the transport's log lines so the test can check the outage was reported. */
function recordingLogger(lines: string[]): TransportLogger {
  const push = (_: object, msg: string) => void lines.push(msg);
  return { info: push, warn: push, error: push };
}

interface Broker {
  readonly kind: 'nats' | 'kafka';
  transport(logger: TransportLogger): Promise<Transport>;
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(topic: string): Promise<void>;
}

const stream = `ORDO_RESTART_${run}`;
const brokers: Broker[] = [
  {
    kind: 'nats',
    transport: (logger) => createNatsTransport({ servers: '127.0.0.1:4222', stream, partitions: 8, ackWaitMs: 3_000, logger }),
    stop: stopNats,
    start: startNats,
    async cleanup() {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    },
  },
  {
    kind: 'kafka',
    transport: (logger) => createKafkaTransport({ brokers: ['127.0.0.1:9092'], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, logger }),
    stop: stopKafka,
    start: startKafka,
    async cleanup(topic) {
      const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: ['127.0.0.1:9092'] });
      await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await admin.close();
    },
  },
];

/** Publishes batches, retrying a failed batch as the outbox relay does (dedup/inbox make the retry safe). */
async function publishAll(t: Transport, all: readonly Message[], published: { count: number; retries: number }): Promise<void> {
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH);
    for (;;) {
      try {
        await t.publish(batch);
        break;
      } catch {
        published.retries += 1;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    published.count += batch.length;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(brokers)('$kind: broker restarted with 1,000 messages in flight', (broker) => {
  it('handles every message once, in order per key, and reports the outage', async () => {
    const topic = `restart-${broker.kind}-${run}`;
    const group = `restart-${broker.kind}-${run}`;
    const publisherLog: string[] = [];
    const consumerLog: string[] = [];
    const publisher = await broker.transport(recordingLogger(publisherLog));
    const consumer = await broker.transport(recordingLogger(consumerLog));
    try {
      await consumer.subscribe({ topic, group, handler: (d) => handleOnce(pool, group, d).then(() => undefined) });
      const all: Message[] = [];
      for (let seq = 0; seq < PER_KEY; seq++) for (let k = 0; k < KEYS; k++) all.push(message(topic, `saga-${k}`, seq));
      const published = { count: 0, retries: 0 };
      const publishing = publishAll(publisher, all, published);
      while (published.count < 250) await new Promise((r) => setTimeout(r, 20));
      await broker.stop();
      await new Promise((r) => setTimeout(r, 1_000));
      await broker.start();
      await publishing;

      const deadline = Date.now() + 60_000;
      let summary = await summariseEffects(pool, group);
      while (summary.messages < all.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        summary = await summariseEffects(pool, group);
      }
      expect(summary).toEqual({ messages: 1_000, effects: 1_000, doubled: [], outOfOrder: [] });
      expect(publisher.status().disconnects + consumer.status().disconnects).toBeGreaterThan(0);
      expect([...publisherLog, ...consumerLog].some((l) => l.includes('broker unreachable'))).toBe(true);
      process.stderr.write(`${broker.kind} restart: publish retries ${published.retries}, publisher ${JSON.stringify(publisher.status())}\n`);
    } finally {
      await broker.start(); // whatever happened, leave the broker running
      await Promise.allSettled([publisher.close(), consumer.close()]);
      await broker.cleanup(topic);
    }
  });
});
