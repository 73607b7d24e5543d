import { silentLogger } from '../../observe/index.js';
import { reconcilerMigrations, RECONCILER_MIGRATION_SCOPE, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from '../../runtime/index.js';
import { migrate, migrateStore, type Db } from '../../store/index.js';
import { createInProcessTransport } from '../../transport/index.js';
import type { Message, Transport } from '../../transport/index.js';
import { ordersMigrations } from '../orders/orders-migrations.js';
import { startOrdersService, type OrdersService } from '../orders/orders-service.js';
import { hostService, serviceDeadLetterMigrations, type HostedService } from '../service-host.js';
import { inventoryMigrations, putStock } from '../services/inventory-service.js';
import { providerMigrations } from '../services/payment-provider.js';
import { paymentMigrations } from '../services/payment-service.js';
import { shippingMigrations } from '../services/shipping-service.js';
import { inventoryService, paymentService, shippingService, type WiringMode } from '../services/service-definitions.js';
import { DEFAULT_SIMULATION } from '../simulation.js';
import type { OrderContext } from '../order-machine.js';

/**
 * A transport that loses chosen messages on publish, as if the outbox's guarantee had
 * been broken (a dead-lettered message, a restored database): what the reconciler is for.
 */
export interface LossyTransport extends Transport {
  /** The next published message matching `match` is dropped (once). */
  dropOnce(match: (m: Message) => boolean): void;
  readonly dropped: Message[];
}

export function lossy(inner: Transport): LossyTransport {
  const rules: ((m: Message) => boolean)[] = [];
  const dropped: Message[] = [];
  return {
    kind: inner.kind,
    dropped,
    dropOnce: (match) => void rules.push(match),
    publish(messages) {
      const kept = messages.filter((m) => {
        const i = rules.findIndex((r) => r(m));
        if (i < 0) return true;
        rules.splice(i, 1);
        dropped.push(m);
        return false;
      });
      return kept.length > 0 ? inner.publish(kept) : Promise.resolve();
    },
    subscribe: (o) => inner.subscribe(o),
    status: () => inner.status(),
    close: () => inner.close(),
  };
}

export interface ReconcileShop {
  readonly orders: OrdersService;
  readonly dbs: { readonly orders: Db; readonly inventory: Db; readonly payment: Db; readonly shipping: Db };
  readonly transport: LossyTransport;
  /** Starts an order the way the gateway does (both engine calls), or only its first call. */
  place(orderId: string, options?: { onlyStartSaga?: boolean; idempotencyKey?: string }): Promise<void>;
  stop(): Promise<void>;
}

/** A database a test opened (ordo/testing's FreshDatabase; shop/ may not import the testing kit). */
export interface OpenedDatabase {
  readonly db: Db;
  close(): Promise<void>;
}
type Factory = (prepare: (db: Db) => Promise<void>) => Promise<{ fresh(): Promise<OpenedDatabase>; close(): Promise<void> }>;

export const SKU = 'TEA-GREEN';
export const PRICE = 850;

/** The four services on four fresh databases, over an in-process transport that can lose messages. No carrier: orders stop at SHIPPED. */
export async function startReconcileShop(mode: WiringMode, open: () => Promise<OpenedDatabase>): Promise<ReconcileShop> {
  const fresh = { orders: await open(), inventory: await open(), payment: await open(), shipping: await open() };
  const dbs = { orders: fresh.orders.db, inventory: fresh.inventory.db, payment: fresh.payment.db, shipping: fresh.shipping.db };
  const transport = lossy(createInProcessTransport({ redeliveryDelayMs: 5 }));
  const log = silentLogger();
  const sim = { ...DEFAULT_SIMULATION, seed: 'reconcile', declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0, refundFailureRate: 0, deliveryDelayMs: -1 };
  const hosted: HostedService[] = [
    await hostService(inventoryService(mode), dbs.inventory, transport, log, { relayPollMs: 20 }),
    await hostService(paymentService(mode, dbs.payment, sim), dbs.payment, transport, log, { relayPollMs: 20 }),
    await hostService(shippingService(mode, sim), dbs.shipping, transport, log, { relayPollMs: 20 }),
  ];
  await dbs.inventory.transaction((tx) => putStock(tx, SKU, { available: 100, unitPrice: PRICE }));
  const orders = await startOrdersService({ db: dbs.orders, transport, log, mode, relayPollMs: 20, timerPollMs: 20 });
  return {
    orders,
    dbs,
    transport,
    async place(orderId, options = {}) {
      const context: OrderContext = { orderId, customerId: 'alice', items: [{ sku: SKU, quantity: 2, unitPrice: PRICE }], total: 2 * PRICE };
      if (options.idempotencyKey) {
        await dbs.orders.query(`INSERT INTO order_idempotency_keys (customer_id, idempotency_key, request_hash, order_id) VALUES ('alice', $1, 'h', $2)`, [options.idempotencyKey, orderId]);
      }
      await orders.engine.startSaga(orderId, 'order', context);
      if (options.onlyStartSaga) return;
      await orders.engine.deliver([{ id: `${orderId}:created`, key: orderId, type: 'OrderCreated', payload: {} }]);
      orders.notify();
    },
    async stop() {
      await orders.stop();
      for (const h of hosted) await h.stop();
      await transport.close();
      for (const f of Object.values(fresh)) await f.close();
    },
  };
}

/**
 * In-memory PGlite databases cloned from one template that already has every service's
 * tables (each service uses its own; the others stay empty): creating and migrating four
 * PGlite databases per test run is the slow part otherwise.
 */
export async function pgliteShopDatabases(pgliteFactory: Factory): Promise<{ fresh(): Promise<OpenedDatabase>; close(): Promise<void> }> {
  return pgliteFactory(async (db) => {
    await migrateStore(db);
    await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    await migrate(db, ordersMigrations, 'orders');
    await migrate(db, reconcilerMigrations, RECONCILER_MIGRATION_SCOPE);
    await migrate(db, [...inventoryMigrations, ...serviceDeadLetterMigrations], 'service:inventory');
    await migrate(db, [...paymentMigrations, ...providerMigrations, ...serviceDeadLetterMigrations], 'service:payment');
    await migrate(db, [...shippingMigrations, ...serviceDeadLetterMigrations], 'service:shipping');
  });
}

/** Polls until `probe` returns a value that is not undefined/false, or fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stateOf(shop: ReconcileShop, orderId: string): Promise<string | undefined> {
  return (await shop.orders.engine.getSaga(orderId))?.snapshot.state;
}

export const untilState = (shop: ReconcileShop, orderId: string, state: string) => waitFor(`${orderId} to reach ${state}`, async () => (await stateOf(shop, orderId)) === state);
