// Acceptance: a consumer SIGKILLed after its effect committed but before it acked. The
// message must come back to the restarted consumer, and the inbox must make it a no-op.
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgresDatabase } from '../store/index.js';
import { startConsumerChild } from './e2e/child.js';
import type { ConsumerProcessConfig } from './e2e/consumer-process.js';
import { prepareInbox, summariseEffects } from './e2e/inbox.js';
import { createKafkaTransport } from './kafka.js';
import { createNatsTransport } from './nats.js';
import { message, waitFor } from './transport-contract.js';
import type { Transport } from './transport.js';

const adminUrl = process.env.ORDO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = '127.0.0.1:4222';
const kafkaBroker = '127.0.0.1:9092';
const run = randomUUID().slice(0, 8);
const dbName = `ordo_t_transport_${run}`;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await ensurePostgresDatabase(adminUrl, dbName), max: 4 });
  await prepareInbox(pool);
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

interface Broker {
  readonly kind: 'nats' | 'kafka';
  readonly url: string;
  readonly stream?: string;
  transport(): Promise<Transport>;
  cleanup(topic: string): Promise<void>;
}

const natsStream = `ORDO_CRASH_${run}`;
const brokers: Broker[] = [
  {
    kind: 'nats',
    url: natsUrl,
    stream: natsStream,
    transport: () => createNatsTransport({ servers: natsUrl, stream: natsStream, partitions: 2, logger: quiet }),
    async cleanup() {
      const nc = await connect({ servers: natsUrl });
      await (await jetstreamManager(nc)).streams.delete(natsStream).catch(() => false);
      await nc.close();
    },
  },
  {
    kind: 'kafka',
    url: kafkaBroker,
    transport: () => createKafkaTransport({ brokers: [kafkaBroker], logger: quiet }),
    async cleanup(topic) {
      const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: [kafkaBroker] });
      await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await admin.close();
    },
  },
];

describe.each(brokers)('$kind: consumer killed between effect and ack', (broker) => {
  it('redelivers the message to the restarted consumer, and the inbox makes it an effect once', async () => {
    const topic = `crash-${broker.kind}-${run}`;
    const group = `crash-${broker.kind}-${run}`;
    const publisher = await broker.transport();
    const children: ReturnType<typeof startConsumerChild>[] = [];
    try {
      const sent = Array.from({ length: 20 }, (_, i) => message(topic, `order-${i % 4}`, Math.floor(i / 4)));
      await publisher.publish(sent);
      const config: ConsumerProcessConfig = { kind: broker.kind, url: broker.url, stream: broker.stream, topic, group, postgresUrl: `postgres://postgres@127.0.0.1:5432/${dbName}`, hangAfterFirst: true };

      const first = startConsumerChild(config);
      children.push(first);
      await waitFor('the first consumer to commit an effect and hang', () => first.lines.some((l) => l.startsWith('hanging ')), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${first.stderr()}`);
      });
      const hungId = first.lines.find((l) => l.startsWith('hanging '))?.slice('hanging '.length) ?? '';
      first.process.kill('SIGKILL');
      await first.exited;

      const second = startConsumerChild({ ...config, hangAfterFirst: false });
      children.push(second);
      const deadline = Date.now() + 60_000;
      while (!(second.lines.includes(`duplicate ${hungId}`) && (await summariseEffects(pool, group)).messages === 20)) {
        if (Date.now() > deadline) throw new Error(`not all handled:\n${second.lines.join('\n')}\n${second.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const summary = await summariseEffects(pool, group);
      expect(summary).toEqual({ messages: 20, effects: 20, doubled: [], outOfOrder: [] });
    } finally {
      for (const c of children) c.process.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await publisher.close();
      await broker.cleanup(topic);
    }
  });
});
