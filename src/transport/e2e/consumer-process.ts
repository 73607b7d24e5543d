// A consumer in its own process, for the crash tests: `node --import tsx consumer-process.ts '<json>'`.
// Prints one line per event on stdout ("ready", "handled <id>", "duplicate <id>", "hanging <id>").
// With `hangAfterFirst`, it commits the first message's effect and then never acks it, so
// the parent can SIGKILL it in exactly the window between effect and ack.
import pg from 'pg';
import { createKafkaTransport } from '../kafka.js';
import { createNatsTransport } from '../nats.js';
import type { Transport } from '../transport.js';
import { handleOnce } from './inbox.js';

export interface ConsumerProcessConfig {
  readonly kind: 'nats' | 'kafka';
  readonly url: string;
  readonly stream?: string;
  readonly topic: string;
  readonly group: string;
  readonly postgresUrl: string;
  readonly hangAfterFirst: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ConsumerProcessConfig;
const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 4 });
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const transport: Transport =
  config.kind === 'nats'
    ? await createNatsTransport({ servers: config.url, stream: config.stream, partitions: 2, ackWaitMs: 2_000, logger: quiet })
    : await createKafkaTransport({ brokers: [config.url], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, logger: quiet });

let hung = false;
await transport.subscribe({
  topic: config.topic,
  group: config.group,
  handler: async (delivery) => {
    const outcome = await handleOnce(pool, config.group, delivery);
    console.log(`${outcome} ${delivery.message.id}`);
    if (config.hangAfterFirst && !hung) {
      hung = true;
      console.log(`hanging ${delivery.message.id}`);
      await new Promise(() => undefined); // effect committed, ack never sent
    }
  },
});
console.log('ready');
process.on('SIGTERM', () => {
  void transport.close().then(() => pool.end()).then(() => process.exit(0));
});
