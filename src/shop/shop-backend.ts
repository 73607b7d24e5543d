import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { accepts } from '../machine/index.js';
import { InvalidQueryError } from '../eventsourcing/index.js';
import { appendToStream, readArchivedStream, readStream } from '../store/index.js';
import { readCatalogue, type CatalogueEntry } from './catalogue-view.js';
import { topics } from './contracts.js';
import type { ListOrdersFilter, OrderSummary, PlaceOrderRequest, PlaceOrderResult, ShopBackend, StockChange } from './gateway/backend.js';
import { HttpError } from './gateway/http-errors.js';
import type { OrderDetails, StockView } from './gateway/schemas.js';
import { loadOrder } from './orders/order-queries.js';
import { listOrders, type OrderView } from './order-view.js';
import { orderTimelineOf } from './orders/order-timeline.js';
import type { OrdersService } from './orders/orders-service.js';

export interface ShopBackendDeps {
  readonly orders: OrdersService;
  readonly registry: Registry;
  readonly health: () => Promise<Record<string, unknown>>;
  /** How long `PUT /inventory/:sku` waits for the catalogue to show the change before answering 202 (default 5 s). */
  readonly stockWaitMs?: number;
}

function toSummary(v: OrderView): OrderSummary {
  return {
    orderId: v.orderId,
    customerId: v.customerId,
    status: v.status,
    items: v.items,
    total: v.total,
    ...(v.failureReason ? { failureReason: v.failureReason } : {}),
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
  };
}

function toView(s: CatalogueEntry): StockView {
  return { sku: s.sku, name: s.name, unitPrice: s.unitPrice, available: s.available, reserved: s.reserved, shipped: s.shipped };
}

/**
 * The shop behind the gateway: orders through the saga engine; prices and stock from the
 * gateway's catalogue (a read model of the inventory's events, in the gateway's tables of
 * the orders database); stock changes as commands to the inventory service. The gateway
 * never touches the inventory's database (DESIGN.md §2, service ownership).
 */
export function createShopBackend(deps: ShopBackendDeps): ShopBackend {
  const { orders } = deps;
  const { engine, db, machine } = orders;
  const stockWaitMs = deps.stockWaitMs ?? 5000;

  async function begin(orderId: string, req: PlaceOrderRequest): Promise<string> {
    // One transaction: the saga and its OrderCreated commit together, so no crash leaves the
    // order in INITIATED. The id makes the creation event idempotent: a retried request does not create twice.
    const first = { id: `${orderId}:created`, type: 'OrderCreated', payload: {} };
    const started = await engine.startSaga(orderId, 'order', { orderId, customerId: req.customerId, items: req.items, total: req.total }, { first });
    if (started.status !== 'started' && started.status !== 'exists') throw new Error(`could not start order ${orderId}: ${started.status}`);
    orders.notify();
    return started.state;
  }

  return {
    async prices(skus) {
      return new Map((await readCatalogue(db, skus)).map((e) => [e.sku, e.unitPrice]));
    },

    async placeOrder(req): Promise<PlaceOrderResult> {
      if (!req.idempotencyKey) {
        const orderId = randomUUID();
        return { kind: 'placed', orderId, status: await begin(orderId, req) };
      }
      const orderId = randomUUID();
      const claimed = await db.query<{ order_id: string; request_hash: string }>(
        `INSERT INTO order_idempotency_keys (customer_id, idempotency_key, request_hash, order_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (customer_id, idempotency_key) DO UPDATE SET customer_id = EXCLUDED.customer_id
         RETURNING order_id, request_hash`,
        [req.customerId, req.idempotencyKey, req.requestHash, orderId],
      );
      const row = claimed.rows[0];
      if (!row) throw new Error('idempotency key was not recorded');
      if (row.request_hash !== req.requestHash) return { kind: 'key-conflict', orderId: row.order_id };
      const status = await begin(row.order_id, req);
      return { kind: row.order_id === orderId ? 'placed' : 'replayed', orderId: row.order_id, status };
    },

    getOrderSummary: async (orderId) => {
      const found = await loadOrder(db, orderId);
      if (!found) return undefined;
      const { archived: _archived, ...summary } = found;
      return summary;
    },

    async getOrder(orderId): Promise<OrderDetails | undefined> {
      const found = await loadOrder(db, orderId);
      if (!found) return undefined;
      const { archived, ...summary } = found;
      // Retention moved a finished order and its stream to the archive tables (shop-retention.ts).
      const saga = archived ? undefined : await engine.getSaga(orderId);
      const messages = archived ? await readArchivedStream(db, `${machine.id}-${orderId}`) : saga ? await readStream(db, saga.stream) : [];
      return { ...summary, timeline: orderTimelineOf(messages) };
    },

    // From the order_view read model (eventually consistent: orders.orderView feeds it from
    // the log, a poll behind at the most); GET /orders/:id reads the order's own stream.
    async listOrders(filter: ListOrdersFilter) {
      try {
        const page = await listOrders(db, filter);
        return { orders: page.orders.map(toSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      } catch (err) {
        if (!(err instanceof InvalidQueryError)) throw err;
        // The cursor's own message could echo whatever was sent: say only that it is not ours.
        const message = err.field === 'cursor' ? 'not a cursor this server returned' : err.problem;
        throw new HttpError(400, 'VALIDATION', `${err.field}: ${message}`, [{ path: err.field, message }]);
      }
    },

    async cancelOrder(orderId, reason) {
      const order = await loadOrder(db, orderId);
      if (!order) throw new HttpError(404, 'NOT_FOUND', `no order ${orderId}`);
      const state = machine.states[order.status as keyof typeof machine.states];
      if (!accepts(machine, order.status, 'CancelRequested') || state.ignore.includes('CancelRequested')) {
        throw new HttpError(409, 'NOT_CANCELLABLE', `order ${orderId} is ${order.status}; it can no longer be cancelled`);
      }
      const [r] = await engine.deliver([{ id: `${orderId}:cancel:${randomUUID()}`, key: orderId, type: 'CancelRequested', payload: { reason } }], { park: false });
      orders.notify();
      if (r?.status === 'dead-lettered') throw new HttpError(409, 'NOT_CANCELLABLE', r.reason);
      if (r?.status === 'rejected') throw r.error;
      return { status: r && 'state' in r ? r.state : order.status };
    },

    async confirmDelivery(orderId) {
      const order = await loadOrder(db, orderId);
      if (!order) throw new HttpError(404, 'NOT_FOUND', `no order ${orderId}`);
      if (order.status === 'DELIVERED') return { status: order.status };
      if (order.status !== 'SHIPPED') throw new HttpError(409, 'NOT_SHIPPED', `order ${orderId} is ${order.status}; only a shipped order can be delivered`);
      await db.transaction((tx) =>
        appendToStream(tx, `delivery-${orderId}`, 'any', [{ type: 'ConfirmDelivery', data: { orderId }, metadata: { topic: topics.commands('shipping'), key: orderId, kind: 'api-command' } }]),
      );
      orders.notify();
      return { status: order.status };
    },

    async listInventory() {
      return (await readCatalogue(db)).map(toView);
    },
    async getInventory(sku) {
      const [s] = await readCatalogue(db, [sku]);
      return s ? toView(s) : undefined;
    },
    async putInventory(sku, input, context): Promise<StockChange> {
      const commandId = randomUUID();
      // The command goes out through the orders database's outbox, like every command the gateway sends.
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO gateway_stock_requests (command_id, sku) VALUES ($1, $2)', [commandId, sku]);
        await appendToStream(tx, `gateway-stock-${commandId}`, 'no_stream', [
          { id: commandId, type: 'SetStock', data: { sku, ...input }, metadata: { topic: topics.commands('inventory'), key: sku, kind: 'api-command', correlationId: context.requestId } },
        ]);
      });
      orders.notify();
      const end = Date.now() + stockWaitMs;
      for (;;) {
        const r = await db.query<{ applied: boolean }>('SELECT applied_version IS NOT NULL AS applied FROM gateway_stock_requests WHERE command_id = $1', [commandId]);
        if (r.rows[0]?.applied) {
          const [s] = await readCatalogue(db, [sku]);
          if (s) return { kind: 'applied', stock: toView(s) };
        }
        if (Date.now() >= end) return { kind: 'accepted', commandId };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },

    async health() {
      const details = await deps.health();
      return { ok: Object.values(details).every((v) => v === 'ok' || v === true), ...details };
    },
    async metrics() {
      return { contentType: deps.registry.contentType, body: await deps.registry.metrics() };
    },
  };
}
