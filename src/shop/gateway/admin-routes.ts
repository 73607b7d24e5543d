import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AdminBackend } from './admin-api.js';
import { targetParam, type AuditSpec } from './audit-hooks.js';
import { parseOr400 } from './http-errors.js';
import { requireAdmin } from './order-routes.js';
import { OrderIdParam, plainText } from './schemas.js';

const StuckAfter = z.coerce.number().int('whole seconds').min(1, 'at least 1 second').max(86_400, 'at most a day');
const Limit = z.coerce.number().int().min(1).max(500).default(100);
const Flag = z.enum(['true', 'false']).default('false').transform((v) => v === 'true');

export const OverviewQuery = z.object({ stuckAfterSeconds: StuckAfter.optional() }).strict();
export const StuckQuery = z.object({ stuckAfterSeconds: StuckAfter.optional(), limit: Limit }).strict();
export const DeadLettersQuery = z.object({ includeReplayed: Flag, limit: Limit }).strict();
export const AlertsQuery = z.object({ includeResolved: Flag, limit: Limit }).strict();
export const DeadLetterIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be a dead letter id (digits)') });
export const CompensateBody = z.object({ reason: plainText(500).optional() }).strict().optional();

/**
 * Route options for an admin-only route: the token is checked before the params and the
 * body, so a customer learns nothing about admin routes.
 */
export const adminOnly = {
  onRequest: (req: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
    try {
      requireAdmin(req);
      done();
    } catch (err) {
      done(err as Error);
    }
  },
};

/** An admin-only route whose every call is recorded in the audit trail (audit-hooks.ts). */
export const auditedAdminOnly = (audit: AuditSpec) => ({ ...adminOnly, config: { audit } });

/**
 * The operator's API under /admin (DESIGN.md §2 dashboard/): every route needs the admin
 * token, and every action is audited. `orderBefore` reads an order's state for the record.
 */
export function registerAdminRoutes(app: FastifyInstance, admin: AdminBackend, orderBefore?: (orderId: string) => Promise<unknown>): void {
  const orderAction = (action: string) =>
    auditedAdminOnly({
      action,
      target: targetParam('id'),
      ...(orderBefore
        ? {
            before: async (req: FastifyRequest) => {
              const p = OrderIdParam.safeParse(req.params);
              return p.success ? orderBefore(p.data.id) : undefined;
            },
          }
        : {}),
    });
  app.get('/admin/overview', adminOnly, async (req) => {
    const q = parseOr400(OverviewQuery, req.query, 'query');
    return admin.overview(q.stuckAfterSeconds);
  });
  app.get('/admin/machine', adminOnly, () => admin.machine());
  app.get('/admin/dead-letters', adminOnly, async (req) => {
    const q = parseOr400(DeadLettersQuery, req.query, 'query');
    return { deadLetters: await admin.deadLetters(q) };
  });
  app.post('/admin/dead-letters/:id/replay', auditedAdminOnly({ action: 'dead-letter.replay', target: targetParam('id') }), async (req) => {
    const { id } = parseOr400(DeadLetterIdParam, req.params, 'path');
    return admin.replayDeadLetter(id);
  });
  app.get('/admin/alerts', adminOnly, async (req) => {
    const q = parseOr400(AlertsQuery, req.query, 'query');
    return { alerts: await admin.alerts(q) };
  });
  app.get('/admin/stuck', adminOnly, async (req) => {
    const q = parseOr400(StuckQuery, req.query, 'query');
    return { stuck: await admin.stuck(q.limit, q.stuckAfterSeconds) };
  });
  app.post('/admin/orders/:id/retry-compensation', orderAction('order.retry-compensation'), async (req, reply) => {
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    return reply.code(202).send(await admin.retryCompensation(id));
  });
  app.get('/admin/orders/:id/attempts', adminOnly, async (req) => {
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    return { attempts: await admin.attempts(id) };
  });
  app.post('/admin/orders/:id/compensate', orderAction('order.compensate'), async (req, reply) => {
    const { id } = parseOr400(OrderIdParam, req.params, 'path');
    const body = parseOr400(CompensateBody, req.body ?? undefined, 'body');
    return reply.code(202).send(await admin.compensate(id, body?.reason ?? 'compensated by an operator'));
  });
}
