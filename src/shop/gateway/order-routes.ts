import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orderTotal } from '../money.js';
import { targetParam, type AuditSpec } from './audit-hooks.js';
import { actingCustomer, type Principal } from './auth.js';
import type { ShopBackend } from './backend.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { orderRequestHash } from './request-hash.js';
import { CancelBody, ListOrdersQuery, OrderIdParam, PlaceOrderBody, type OrderDetails } from './schemas.js';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

function principal(req: FastifyRequest): Principal {
  const p = (req as FastifyRequest & { principal?: Principal }).principal;
  if (!p) throw new HttpError(401, 'UNAUTHENTICATED', 'missing or invalid bearer token');
  return p;
}

function requireAdmin(req: FastifyRequest): void {
  if (principal(req).kind !== 'admin') throw new HttpError(403, 'FORBIDDEN', 'this needs the admin token');
}

export function registerOrderRoutes(app: FastifyInstance, backend: ShopBackend): void {
  app.post('/orders', async (req, reply) => {
    const body = parseOr400(PlaceOrderBody, req.body, 'order');
    const acting = actingCustomer(principal(req), body.customerId);
    if (!acting.ok) throw new HttpError(acting.status, acting.status === 403 ? 'FORBIDDEN' : 'VALIDATION', acting.message);
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new HttpError(400, 'VALIDATION', 'Idempotency-Key: 1-128 of A-Z a-z 0-9 _ . : -');
    }
    const prices = await backend.prices(body.items.map((i) => i.sku));
    const unknown = body.items.map((i, n) => ({ i, n })).filter(({ i }) => !prices.has(i.sku));
    if (unknown.length > 0) {
      const fields = unknown.map(({ i, n }) => ({ path: `items.${n}.sku`, message: `unknown SKU "${i.sku}"` }));
      throw new HttpError(400, 'UNKNOWN_SKU', `invalid order: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
    }
    const items = body.items.map((i) => ({ ...i, unitPrice: prices.get(i.sku) ?? 0 }));
    const amounts = orderTotal(items);
    if (!amounts.ok) throw new HttpError(400, 'AMOUNT_OUT_OF_RANGE', `invalid order: ${amounts.problems.map((f) => `${f.path}: ${f.message}`).join('; ')}`, amounts.problems);
    const result = await backend.placeOrder({
      customerId: acting.customerId,
      items,
      total: amounts.total,
      requestHash: orderRequestHash(acting.customerId, body.items),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    if (result.kind === 'key-conflict') {
      throw new HttpError(409, 'IDEMPOTENCY_KEY_REUSED', `Idempotency-Key was already used for order ${result.orderId} with a different request`);
    }
    if (result.kind === 'replayed') void reply.header('Idempotent-Replayed', 'true');
    return reply.code(202).send({ orderId: result.orderId, status: result.status });
  });

  /** Loads the order named in the path; a foreign order is reported as missing (its existence is not the caller's business). */
  async function visibleOrder<O extends { customerId: string }>(req: FastifyRequest, load: (id: string) => Promise<O | undefined>): Promise<{ id: string; order: O }> {
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    const order = await load(id);
    const p = principal(req);
    if (!order || (p.kind === 'customer' && order.customerId !== p.customerId)) throw new HttpError(404, 'NOT_FOUND', `no order ${id}`);
    return { id, order };
  }

  app.get('/orders/:id', async (req) => {
    const { order } = await visibleOrder(req, (id) => backend.getOrder(id));
    return principal(req).kind === 'admin' ? order : customerOrderView(order);
  });

  app.get('/orders', async (req) => {
    const q = parseOr400(ListOrdersQuery, req.query, 'query');
    const acting = actingCustomer(principal(req), q.customerId);
    const customerId = acting.ok ? acting.customerId : undefined;
    if (!acting.ok && acting.status === 403) throw new HttpError(403, 'FORBIDDEN', acting.message);
    return backend.listOrders({ limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(customerId ? { customerId } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
  });

  const ownOrder = async (req: FastifyRequest) => (await visibleOrder(req, (id) => backend.getOrderSummary(id))).id;
  const orderAudit = (action: string): { config: { audit: AuditSpec } } => ({
    config: {
      audit: {
        action,
        target: targetParam('id'),
        before: async (req) => {
          const p = OrderIdParam.safeParse(req.params);
          const o = p.success ? await backend.getOrderSummary(p.data.id) : undefined;
          return o ? { status: o.status } : undefined;
        },
      },
    },
  });

  // Audited when the admin cancels (a customer's own cancellation is in the order's timeline).
  app.post('/orders/:id/cancel', orderAudit('order.cancel'), async (req, reply) => {
    const body = parseOr400(CancelBody, req.body ?? undefined, 'body');
    const id = await ownOrder(req);
    return reply.code(202).send({ orderId: id, ...(await backend.cancelOrder(id, body?.reason ?? 'requested by the customer')) });
  });

  app.post('/orders/:id/delivery', orderAudit('order.confirm-delivery'), async (req, reply) => {
    requireAdmin(req);
    const id = await ownOrder(req);
    return reply.code(202).send({ orderId: id, ...(await backend.confirmDelivery(id)) });
  });
}

/**
 * A customer's view of an order: the state changes, without the messages between the
 * services (their payloads, retry errors, other services' data) or internal ids.
 */
export function customerOrderView(order: OrderDetails): OrderDetails {
  const timeline = order.timeline
    .filter((t) => t.type === 'transition')
    .map((t) => {
      const event = (t.data as { event?: unknown } | null)?.event;
      return { at: t.at, type: t.type, ...(t.from !== undefined ? { from: t.from } : {}), ...(t.to !== undefined ? { to: t.to } : {}), data: typeof event === 'string' ? { event } : {} };
    });
  return { ...order, timeline };
}

export { principal, requireAdmin };
