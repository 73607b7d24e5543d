import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { orderHistory, serviceDeadLetters, type OpsDbs } from '../ops-views.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { requireAdmin } from './order-routes.js';

const Limit = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
const OrderIdParam = z.object({ id: z.string().min(1).max(200) });

/**
 * Read-only operator routes the dashboard needs beyond admin-routes.ts (admin token only):
 * `GET /admin/service-dead-letters` (the participants' dead letters, not only the engine's)
 * and `GET /admin/orders/:id/history` (the order's messages across services, one step at a
 * time, with the order's and the participants' states after each: the time-travel view).
 */
export function registerAdminOpsRoutes(app: FastifyInstance, dbs: OpsDbs): void {
  app.get('/admin/service-dead-letters', async (req) => {
    requireAdmin(req);
    const { limit } = parseOr400(Limit, req.query, 'query');
    return { deadLetters: await serviceDeadLetters(dbs, limit) };
  });
  app.get('/admin/orders/:id/history', async (req) => {
    requireAdmin(req);
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    const steps = await orderHistory(dbs, id);
    if (!steps) throw new HttpError(404, 'NOT_FOUND', `no order ${id}`);
    return { orderId: id, steps };
  });
}
