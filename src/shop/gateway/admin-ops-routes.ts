import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { orderHistory, PARTICIPANTS, serviceDeadLetters, type OpsDbs, type Participant } from '../ops-views.js';
import { waitingDeadLetter } from '../service-dead-letters.js';
import { actorOf } from './access-log.js';
import { auditedAdminOnly } from './admin-routes.js';
import { targetParam } from './audit-hooks.js';
import type { Principal } from './auth.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { requireAdmin } from './order-routes.js';

const Limit = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
const OrderIdParam = z.object({ id: z.string().min(1).max(200) });
const ServiceDeadLetterParams = z.object({ service: z.enum(PARTICIPANTS), id: z.string().regex(/^[0-9]{1,18}$/, 'a dead letter id') });

/** Sends a participant its ReplayDeadLetter command (through the gateway's outbox); resolves with the command's id. */
export type SendReplay = (service: Participant, deadLetterId: string, actor: string, requestId: string) => Promise<string>;

/**
 * Read-only operator routes the dashboard needs beyond admin-routes.ts (admin token only):
 * `GET /admin/service-dead-letters` (the participants' dead letters, not only the engine's)
 * and `GET /admin/orders/:id/history` (the order's messages across services, one step at a
 * time, with the order's and the participants' states after each: the time-travel view).
 */
export function registerAdminOpsRoutes(app: FastifyInstance, dbs: OpsDbs, sendReplay?: SendReplay): void {
  app.get('/admin/service-dead-letters', async (req) => {
    requireAdmin(req);
    const { limit } = parseOr400(Limit, req.query, 'query');
    return { deadLetters: await serviceDeadLetters(dbs, limit) };
  });
  // The service handles its dead letter again itself (it owns its tables): 202 once the command is on its way.
  if (sendReplay) {
    app.post(
      '/admin/service-dead-letters/:service/:id/replay',
      auditedAdminOnly({ action: 'service-dead-letter.replay', target: (req) => `${targetParam('service')(req) ?? ''}/${targetParam('id')(req) ?? ''}` }),
      async (req: FastifyRequest & { principal?: Principal }, reply) => {
        const { service, id } = parseOr400(ServiceDeadLetterParams, req.params, 'path');
        const db = dbs[service];
        if (!db || !(await waitingDeadLetter(db, id).catch(() => undefined))) throw new HttpError(404, 'NOT_FOUND', `no ${service} dead letter ${id} waiting for replay`);
        const commandId = await sendReplay(service, id, actorOf(req.principal), req.id);
        return reply.code(202).send({ service, id, commandId, status: 'sent' });
      },
    );
  }
  app.get('/admin/orders/:id/history', async (req) => {
    requireAdmin(req);
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    const steps = await orderHistory(dbs, id);
    if (!steps) throw new HttpError(404, 'NOT_FOUND', `no order ${id}`);
    return { orderId: id, steps };
  });
}
