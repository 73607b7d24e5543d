import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Duration } from '../machine/index.js';
import { createMetrics, type Logger, type OrdoMetrics } from '../observe/index.js';
import { embeddedDatabases, type DatabaseOwner } from './embedded-databases.js';
import { ensurePostgresDatabase, migrate, openPostgres, startOutboxRelay, type Db } from '../store/index.js';
import type { Transport } from '../transport/index.js';
import { sqlAuditTrail } from './audit-trail.js';
import { seedCatalogue } from './catalogue.js';
import { catalogueCaughtUp, startCatalogueProjector } from './catalogue-view.js';
import type { StockChanged } from './contracts.js';
import { createTokenService, type TokenService } from './gateway/auth.js';
import { buildGateway } from './gateway/gateway.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type GatewaySecurityOptions } from './gateway/security-options.js';
import { gatewayMigrations } from './gateway-migrations.js';
import { announceStock } from './services/stock-feed.js';
import { loadTokenSecret, sqlTokenRevocations, type TokenSecretPlace } from './token-store.js';
import { ordersRelayFilter, startOrdersService, type OrdersService } from './orders/orders-service.js';
import { startMetricsListener } from './metrics-listener.js';
import { observedRelayTarget } from './service-observe.js';
import { httpTracing } from './http-tracing.js';
import { hostService, type HostedService } from './service-host.js';
import { startCarrier } from './services/carrier.js';
import { inventoryService, paymentService, shippingService, type WiringMode } from './services/service-definitions.js';
import { createAdminBackend } from './admin-backend.js';
import type { AdminBackend } from './gateway/admin-api.js';
import { registerAdminOpsRoutes } from './gateway/admin-ops-routes.js';
import { replaySender } from './service-replay.js';
import type { ShopBackend } from './gateway/backend.js';
import { requireAdmin } from './gateway/order-routes.js';
import type { OpsDbs } from './ops-views.js';
import { createShopBackend } from './shop-backend.js';
import { DEFAULT_SIMULATION, type SimulationOptions } from './simulation.js';
import { openTransport, type TransportChoice } from './transport-choice.js';
import type { Reconciler } from '../runtime/index.js';
import { startShopReconciler } from './reconcile/shop-reconciler.js';
import { DEFAULT_SHOP_RETENTION, startShopRetention, type ShopRetention } from './shop-retention.js';

export const SHOP_SERVICES = ['orders', 'inventory', 'payment', 'shipping', 'gateway'] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];

export type StorageChoice = { kind: 'pglite'; dataDir?: string } | { kind: 'postgres'; url: string; databasePrefix?: string };

export interface ShopOptions {
  readonly mode: WiringMode;
  readonly storage: StorageChoice;
  readonly transport: TransportChoice;
  /** Which parts run in this process (default: all). */
  readonly services?: readonly ShopService[];
  readonly port?: number;
  readonly host?: string;
  readonly simulation?: Partial<SimulationOptions>;
  /** Overrides of the order machine's delays, e.g. `{ paymentTimeout: '5s' }`. */
  readonly delays?: Readonly<Record<string, Duration>>;
  /** The order machine new orders start on (default 1); with 2 both versions run (see OrdersServiceOptions). */
  readonly orderMachineVersion?: 1 | 2;
  /** With version 2: migrate the unfinished v1 orders in the background at start. */
  readonly migrateOrders?: boolean;
  readonly adminToken?: string;
  /** Signs customer tokens (ORDO_TOKEN_SECRET); generated and stored on first start when absent (token-store.ts). */
  readonly tokenSecret?: string;
  /** Rate limits, timeouts, CORS, who may read /metrics and /openapi.json, the access log. */
  readonly security?: GatewaySecurityOptions;
  /** Stock the demo catalogue when the inventory is empty (default true). */
  readonly seed?: boolean;
  /** Outbox relay lease: how long a crashed process's relay blocks the one that replaces it. */
  readonly relayLeaseMs?: number;
  /** Reconciliation rounds in the orders service's process: every this many ms (default 30 000), `false` = only on demand. */
  readonly reconcileIntervalMs?: number | false;
  /**
   * `GET /metrics` and `GET /health` on a port of their own, for a process without the
   * gateway (which serves both on `port`). Port 0 picks a free one.
   */
  readonly metricsListener?: { readonly port: number; readonly host?: string };
  /** Retention of finished orders, inbox entries and published reports (default DEFAULT_SHOP_RETENTION); `false` keeps everything. */
  readonly retention?: ShopRetention | false;
  readonly log: Logger;
  /** More gateway routes (the dashboard), given what the operator's views read. */
  readonly plugins?: readonly ((app: FastifyInstance, shop: ShopPluginContext) => void | Promise<void>)[];
}

/** What a gateway plugin (the dashboard) may read: the same sources as the admin API. */
export interface ShopPluginContext {
  readonly admin: AdminBackend;
  readonly reconciler?: Pick<Reconciler, 'list'>;
  readonly listInventory: ShopBackend['listInventory'];
  /** The services' databases this process has open (the gateway has all four). */
  readonly dbs: OpsDbs;
  readonly machineId: string;
  /** Throws 403 unless the request carries the admin token. */
  readonly requireAdmin: (req: FastifyRequest) => void;
}

export interface RunningShop {
  readonly url?: string;
  /** Where the metrics listener serves `/metrics` and `/health`, when one was asked for. */
  readonly metricsUrl?: string;
  readonly tokens: TokenService;
  readonly metrics: OrdoMetrics;
  readonly transport: Transport;
  readonly dbs: Readonly<Partial<Record<'orders' | 'inventory' | 'payment' | 'shipping', Db>>>;
  readonly orders?: OrdersService;
  readonly reconciler?: Reconciler;
  readonly app?: FastifyInstance;
  stop(): Promise<void>;
}

/** Each service's database: a schema and role of its own in one embedded cluster, or a database of its own on the server. */
function serviceDatabases(storage: StorageChoice): (service: DatabaseOwner) => Promise<Db> {
  if (storage.kind === 'pglite') return embeddedDatabases(storage.dataDir);
  return (service) => openServerDb(storage, service);
}

async function openServerDb(storage: StorageChoice & { kind: 'postgres' }, service: string): Promise<Db> {
  const url = await ensurePostgresDatabase(storage.url, `${storage.databasePrefix ?? 'ordo'}_${service}`);
  return openPostgres({ url, applicationName: `ordo-${service}` });
}

/**
 * Starts the shop, or the parts of it this process runs. Each service owns its own
 * database; they talk only through the transport. The gateway reads the orders and
 * inventory databases (its read path) and writes orders through the saga engine.
 */
export async function startShop(options: ShopOptions): Promise<RunningShop> {
  const parts = new Set<ShopService>(options.services ?? SHOP_SERVICES);
  const log = options.log;
  const sim: SimulationOptions = { ...DEFAULT_SIMULATION, ...options.simulation };
  const metrics = createMetrics({ defaultMetrics: true });
  const transport = await openTransport(options.transport, log, (s) => metrics.brokerUp.set({ transport: options.transport.kind }, s.connected ? 1 : 0));
  // Asked at each scrape: the in-process transport reports no changes, and a scrape must see the state now.
  metrics.onScrape(() => void metrics.brokerUp.set({ transport: options.transport.kind }, transport.status().connected ? 1 : 0));
  let tokens = createTokenService(options.adminToken ? { adminToken: options.adminToken } : {});
  const dbs: Partial<Record<'orders' | 'inventory' | 'payment' | 'shipping', Db>> = {};
  const stops: (() => Promise<void>)[] = [];
  const hosted: HostedService[] = [];
  const hostOptions = { ...(options.relayLeaseMs ? { relayLeaseMs: options.relayLeaseMs } : {}), metrics: { metrics, transport: options.transport.kind } };
  const openDb = serviceDatabases(options.storage);
  const dbOf = async (name: DatabaseOwner) => (dbs[name] ??= await openDb(name));

  // What this process's inventory announced at start, so its gateway can wait for it.
  let announced: StockChanged[] = [];

  try {
    if (parts.has('inventory')) {
      const db = await dbOf('inventory');
      const inventory = await hostService(inventoryService(options.mode), db, transport, log.child({ service: 'inventory' }), hostOptions);
      hosted.push(inventory);
      if (options.seed !== false) await seedCatalogue(db);
      announced = await announceStock(db);
      inventory.notify();
    }
    if (parts.has('payment')) {
      const db = await dbOf('payment');
      hosted.push(await hostService(paymentService(options.mode, db, sim), db, transport, log.child({ service: 'payment' }), hostOptions));
    }
    if (parts.has('shipping')) {
      const db = await dbOf('shipping');
      const shipping = await hostService(shippingService(options.mode, sim), db, transport, log.child({ service: 'shipping' }), hostOptions);
      hosted.push(shipping);
      if (sim.deliveryDelayMs >= 0) {
        const carrier = startCarrier(shipping, sim.deliveryDelayMs, log.child({ service: 'carrier' }));
        stops.push(() => carrier.stop());
      }
    }
    for (const h of hosted) stops.push(() => h.stop());

    let orders: OrdersService | undefined;
    if (parts.has('orders') || parts.has('gateway')) {
      orders = await startOrdersService({
        db: await dbOf('orders'),
        transport,
        log: log.child({ service: 'orders' }),
        mode: options.mode,
        consume: parts.has('orders'),
        ...(options.delays ? { delays: options.delays } : {}),
        ...(options.orderMachineVersion ? { orderMachineVersion: options.orderMachineVersion } : {}),
        // Only the process that consumes (the orders service) migrates; a gateway-only process does not.
        ...(options.migrateOrders === true && parts.has('orders') ? { migrateOnStart: true } : {}),
        ...hostOptions,
      });
      const o = orders;
      stops.unshift(() => o.stop());
    }

    if (options.retention !== false) {
      const stopRetention = startShopRetention(
        { ...(orders && parts.has('orders') ? { orders: orders.db } : {}), services: hosted.map((h) => ({ name: h.name, db: h.db })) },
        options.retention ?? DEFAULT_SHOP_RETENTION,
        log.child({ component: 'retention' }),
      );
      stops.unshift(stopRetention);
    }

    // Beside the orders service; a gateway-only process keeps one for POST /admin/reconcile.
    let reconciler: Reconciler | undefined;
    if (orders) {
      const views = { inventory: await dbOf('inventory'), payment: await dbOf('payment'), shipping: await dbOf('shipping') };
      const r = await startShopReconciler({ orders, views, mode: options.mode, periodic: parts.has('orders'), ...(options.reconcileIntervalMs !== undefined ? { intervalMs: options.reconcileIntervalMs } : {}), log: log.child({ component: 'reconciler' }), metrics });
      reconciler = r;
      stops.unshift(() => r.stop());
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (parts.has('gateway') && orders) {
      const gatewayDb = orders.db;
      await migrate(gatewayDb, gatewayMigrations, 'gateway');
      const place: TokenSecretPlace =
        options.storage.kind === 'postgres' ? { kind: 'database', db: gatewayDb } : options.storage.dataDir ? { kind: 'file', dir: options.storage.dataDir } : { kind: 'memory' };
      const secret = await loadTokenSecret(options.tokenSecret, place, log);
      log.info({ source: secret.source }, 'customer tokens are signed with their own secret');
      tokens = createTokenService({ adminToken: tokens.adminToken, secret: secret.secret });
      const catalogue = await startCatalogueProjector({ db: gatewayDb, transport, log: log.child({ component: 'catalogue' }) });
      stops.unshift(() => catalogue.close());
      // A gateway without the orders service in its process relays the orders log too (the
      // relays share a lease: one publishes, the other stands by), so the commands it writes
      // (SetStock, ConfirmDelivery) go out even while the orders process is starting or down.
      // What it publishes gets the same producer spans and counts as the orders process's relay.
      let front: OrdersService = orders;
      if (!parts.has('orders')) {
        const relay = startOutboxRelay({ db: gatewayDb, transport: observedRelayTarget(transport, 'orders', hostOptions.metrics), name: 'orders-outbox', pollMs: 100, ...(options.relayLeaseMs ? { leaseMs: options.relayLeaseMs } : {}), toMessages: ordersRelayFilter(options.mode), topicsOnly: true, log });
        stops.push(() => relay.stop());
        const o = orders;
        front = { ...o, notify: () => (o.notify(), relay.committed()) };
      }
      // In one process the first order may come at once: wait until the catalogue has what the inventory announced.
      if (announced.length > 0 && !(await catalogueCaughtUp(gatewayDb, announced, 30_000))) log.warn('the catalogue has not caught up with the inventory yet; prices may be missing for a moment');
      const backend = createShopBackend({
        orders: front,
        registry: metrics.registry,
        // PUT /inventory answers 202 well before the request timeout would answer 503.
        stockWaitMs: Math.min(5000, Math.floor((options.security?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) / 2)),
        health: async () => {
          const out: Record<string, unknown> = {};
          for (const [name, db] of Object.entries(dbs)) out[name] = await db.query('SELECT 1').then(() => 'ok', (e: Error) => e.message);
          out['transport'] = transport.status?.().connected === false ? 'disconnected' : 'ok';
          return out;
        },
      });
      const admin = createAdminBackend({ orders: front, shop: backend });
      const context: ShopPluginContext = { admin, ...(reconciler ? { reconciler } : {}), listInventory: () => backend.listInventory(), dbs, machineId: orders.machine.id, requireAdmin };
      app = await buildGateway({
        backend,
        admin,
        ...(reconciler ? { reconciler } : {}),
        tokens,
        revocations: sqlTokenRevocations(gatewayDb),
        audit: sqlAuditTrail(gatewayDb),
        ...(options.security ? { security: options.security } : {}),
        logger: log,
        plugins: [httpTracing(log.child({ service: 'gateway' })), (a) => registerAdminOpsRoutes(a, dbs, replaySender(gatewayDb, front)), ...(options.plugins ?? []).map((p) => (a: FastifyInstance) => p(a, context))],
        onRequestDone: (method, route, status) => metrics.httpRequests.inc({ method, route, status: String(status) }),
      });
      url = await app.listen({ port: options.port ?? 3000, host: options.host ?? '127.0.0.1' });
      const a = app;
      stops.unshift(() => a.close());
    }

    let metricsUrl: string | undefined;
    if (options.metricsListener) {
      const listener = await startMetricsListener({
        registry: metrics.registry,
        ...options.metricsListener,
        health: async () => {
          const status = transport.status();
          const databases: Record<string, string> = {};
          for (const [name, db] of Object.entries(dbs)) databases[name] = await db.query('SELECT 1').then(() => 'ok', (e: Error) => e.message);
          return { ok: status.connected && Object.values(databases).every((v) => v === 'ok'), services: [...parts], transport: { kind: options.transport.kind, ...status }, databases };
        },
      });
      metricsUrl = listener.url;
      stops.unshift(() => listener.close());
    }

    return {
      ...(url ? { url } : {}),
      ...(metricsUrl ? { metricsUrl } : {}),
      tokens,
      metrics,
      transport,
      dbs,
      ...(orders ? { orders } : {}),
      ...(reconciler ? { reconciler } : {}),
      ...(app ? { app } : {}),
      async stop() {
        for (const s of stops) await s().catch((err: unknown) => log.warn({ err }, 'stopping a part failed'));
        await transport.close().catch(() => undefined);
        for (const db of Object.values(dbs)) await db.close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const s of stops) await s().catch(() => undefined);
    await transport.close().catch(() => undefined);
    for (const db of Object.values(dbs)) await db.close().catch(() => undefined);
    throw err;
  }
}
