import { randomBytes, randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { migrate, migrateStore, startOutboxRelay, type OutboxRelay } from '../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/index.js';
import { createInProcessTransport, createKafkaTransport, createNatsTransport, type Message, type Subscription, type Transport } from '../transport/index.js';
import { applyStockChanged, readCatalogue, startCatalogueProjector } from './catalogue-view.js';
import { stagingTx } from './staged-writes.js';
import { topics } from './contracts.js';
import { gatewayMigrations } from './gateway-migrations.js';
import type { OrdersService } from './orders/orders-service.js';
import { hostService, type HostedService } from './service-host.js';
import { inventoryService } from './services/service-definitions.js';
import { createShopBackend } from './shop-backend.js';

const log = silentLogger();
const NATS = process.env['ORDO_TEST_NATS'] ?? 'nats://127.0.0.1:4222';
const KAFKA = process.env['ORDO_KAFKA_BROKER'] ?? '127.0.0.1:9092';
const run = randomBytes(3).toString('hex');

const engines: [string, () => Promise<FreshDatabase>][] = [
  ['pglite', () => freshPglite()],
  ['postgres', () => freshPostgres('catalogue')],
];

describe.each(engines)("the gateway's catalogue on %s", (_name, open) => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await open();
    await migrate(fresh.db, gatewayMigrations, 'gateway');
  });
  afterAll(() => fresh?.close());

  const event = (version: number, available: number) => ({ sku: 'S', name: 'S', unitPrice: 2 ** 40, available, reserved: 0, shipped: 0, version });

  it('keeps the highest version whatever order the events come in, and marks the stock request its event answers', async () => {
    await fresh.db.query(`INSERT INTO gateway_stock_requests (command_id, sku) VALUES ('cmd-1', 'S')`);
    await fresh.db.transaction((tx) => applyStockChanged(tx, event(3, 30)));
    await fresh.db.transaction((tx) => applyStockChanged(tx, event(2, 20), 'cmd-1'));
    await fresh.db.transaction((tx) => applyStockChanged(tx, event(3, 99)));
    expect(await readCatalogue(fresh.db, ['S'])).toEqual([{ ...event(3, 30), unitPrice: 2 ** 40 }]);
    await fresh.db.transaction((tx) => applyStockChanged(tx, event(4, 40)));
    expect((await readCatalogue(fresh.db))[0]?.available).toBe(40);
    // The request is answered even by an event the catalogue had already passed.
    expect((await fresh.db.query<{ applied_version: unknown }>(`SELECT applied_version FROM gateway_stock_requests WHERE command_id = 'cmd-1'`)).rows[0]?.applied_version).toBeTruthy();
  });

  it('looks for a stock request only when the event answers one (or does not say what it answers)', async () => {
    const statements = async (...cause: [string?, string?]): Promise<number> =>
      fresh.db.transaction(async (tx) => {
        let n = 0;
        await applyStockChanged({ query: (sql, params) => ((n += 1), tx.query(sql, params)) }, event(10, 1), ...cause);
        return n;
      });
    expect(await statements('cmd-r', 'ReserveInventory')).toBe(1);
    expect(await statements('cmd-s', 'SetStock')).toBe(2);
    expect(await statements('cmd-old')).toBe(2);
    expect(await statements()).toBe(1);
  });

  it('stages its writes in a staging transaction (the catalogue\'s batches): they go with the COMMIT, no round trip of their own', async () => {
    await fresh.db.transaction(async (raw) => {
      let sent = 0;
      const tx = stagingTx({ query: (sql, params) => ((sent += 1), raw.query(sql, params)) });
      await applyStockChanged(tx, event(11, 5), 'cmd-staged', 'SetStock');
      expect([sent, tx.pending]).toEqual([0, 2]);
      await tx.flush();
    });
    expect((await readCatalogue(fresh.db)).find((e) => e.version === 11)?.available).toBe(5);
  });
});

/** Kafka topics are shared by everyone on the broker: this run's names carry a prefix. */
function prefixed(inner: Transport, prefix: string): Transport {
  const name = (t: string) => `${prefix}${t}`;
  const strip = (m: Message): Message => ({ ...m, topic: m.topic.startsWith(prefix) ? m.topic.slice(prefix.length) : m.topic });
  return {
    ...inner,
    publish: (ms) => inner.publish(ms.map((m) => ({ ...m, topic: name(m.topic) }))),
    subscribe: (o) => inner.subscribe({ ...o, topic: name(o.topic), group: name(o.group), handler: (d) => o.handler({ ...d, message: strip(d.message) }) }),
    status: () => inner.status(),
    close: () => inner.close(),
  };
}

const transports: [string, () => Promise<Transport>, () => Promise<void>][] = [
  ['in-process', () => Promise.resolve(createInProcessTransport({ redeliveryDelayMs: 10 })), () => Promise.resolve()],
  [
    'NATS',
    () => Promise.resolve(createNatsTransport({ servers: NATS, stream: `H6CAT_${run.toUpperCase()}`, logger: log })),
    async () => {
      const nc = await connect({ servers: NATS });
      await (await jetstreamManager(nc)).streams.delete(`H6CAT_${run.toUpperCase()}`).catch(() => false);
      await nc.close();
    },
  ],
  [
    'Kafka',
    async () => prefixed(await createKafkaTransport({ brokers: [KAFKA], clientId: `ordo-h6-${run}`, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, logger: log }), `h6cat-${run}-`),
    async () => {
      const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: [KAFKA] });
      try {
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(`h6cat-${run}-`));
        if (mine.length > 0) await admin.deleteTopics({ topics: mine });
      } finally {
        await admin.close();
      }
    },
  ],
];

/*
 * The path of `PUT /inventory/:sku` and of the gateway's prices, on PostgreSQL databases of
 * their own and a real broker: SetStock leaves the gateway's log through its outbox, the
 * inventory service applies it with its inbox and reports StockChanged, the catalogue
 * projector applies that and answers the request. Nothing reads the inventory's tables but
 * the inventory service.
 */
describe.each(transports)('stock changes and the catalogue over %s (PostgreSQL)', (_name, makeTransport, cleanup) => {
  let transport: Transport;
  let inventoryDb: FreshDatabase;
  let gatewayDb: FreshDatabase;
  let inventory: HostedService;
  let relay: OutboxRelay;
  let projector: Subscription;

  beforeAll(async () => {
    transport = await makeTransport();
    inventoryDb = await freshPostgres('cat_inv');
    gatewayDb = await freshPostgres('cat_gw');
    inventory = await hostService(inventoryService('orchestration'), inventoryDb.db, transport, log, { relayPollMs: 20 });
    await migrateStore(gatewayDb.db);
    await migrate(gatewayDb.db, gatewayMigrations, 'gateway');
    relay = startOutboxRelay({ db: gatewayDb.db, transport, name: 'gateway-test-outbox', pollMs: 20, log });
    projector = await startCatalogueProjector({ db: gatewayDb.db, transport, log });
  }, 60_000);
  afterAll(async () => {
    await projector?.close();
    await relay?.stop();
    await inventory?.stop();
    await transport?.close();
    await inventoryDb?.close();
    await gatewayDb?.close();
    await cleanup();
  }, 60_000);

  it('applies a stock change sent as a command and prices from the catalogue it feeds', async () => {
    const orders = { db: gatewayDb.db, notify: () => relay.notify() } as unknown as OrdersService;
    const backend = createShopBackend({ orders, registry: new Registry(), health: () => Promise.resolve({}), stockWaitMs: 30_000 });
    const r = await backend.putInventory('SKU-K', { available: 8, unitPrice: 2 ** 33, name: 'K' }, { requestId: 'req-1' });
    expect(r).toEqual({ kind: 'applied', stock: { sku: 'SKU-K', name: 'K', unitPrice: 2 ** 33, available: 8, reserved: 0, shipped: 0 } });
    expect((await inventoryDb.db.query<{ available: number }>(`SELECT available FROM stock WHERE sku = 'SKU-K'`)).rows[0]?.available).toBe(8);
    expect(await backend.prices(['SKU-K', 'NOPE'])).toEqual(new Map([['SKU-K', 2 ** 33]]));

    // A reservation moves the catalogue too, through the same feed.
    await transport.publish([{ id: randomUUID(), topic: topics.commands('inventory'), key: 'o-1', type: 'ReserveInventory', payload: { orderId: 'o-1', items: [{ sku: 'SKU-K', quantity: 3, unitPrice: 2 ** 33 }] }, headers: {} }]);
    const end = Date.now() + 30_000;
    while ((await backend.getInventory('SKU-K'))?.available !== 5) {
      if (Date.now() > end) throw new Error(`the catalogue did not follow the reservation: ${JSON.stringify(await backend.getInventory('SKU-K'))}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await backend.getInventory('SKU-K')).toMatchObject({ available: 5, reserved: 3 });
  }, 90_000);
});
