import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Reconciler } from '../../runtime/index.js';
import { parseOr400 } from './http-errors.js';
import { asAdminOnly, common, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { requireAdmin } from './order-routes.js';
import { plainText } from './schemas.js';

/** What the gateway needs of the reconciler (it runs beside the orders service; see shop/reconcile/). */
export type ReconcileBackend = Pick<Reconciler, 'list' | 'runOnce' | 'stats'>;

export const ReconciliationsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.string().regex(/^\d{1,18}$/, 'must be a record id (digits) from a previous page').optional(),
    outcome: z.enum(['corrected', 'failed', 'check-failed']).optional(),
    check: plainText(100).optional(),
    orderId: plainText(200).optional(),
  })
  .strict();

/** `GET /admin/reconciliations` (the record of every correction) and `POST /admin/reconcile` (one round now); admin token only. */
export function registerReconcileRoutes(app: FastifyInstance, reconciler: ReconcileBackend): void {
  const adminOnly = {
    onRequest: (req: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
      try {
        requireAdmin(req);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  };
  app.get('/admin/reconciliations', adminOnly, async (req) => {
    const q = parseOr400(ReconciliationsQuery, req.query, 'query');
    const reconciliations = await reconciler.list({
      limit: q.limit,
      ...(q.before ? { before: q.before } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.check ? { check: q.check } : {}),
      ...(q.orderId ? { subject: q.orderId } : {}),
    });
    const last = reconciliations[reconciliations.length - 1];
    return { reconciliations, ...(reconciliations.length === q.limit && last ? { nextBefore: last.id } : {}), stats: await reconciler.stats() };
  });
  app.post('/admin/reconcile', { ...adminOnly, config: { audit: { action: 'reconcile.run' } } }, async () => reconciler.runOnce());
}

/** The two routes in the OpenAPI document. */
export function reconcileOpenApiPaths(): OpenApiPaths {
  return asAdminOnly({
    '/admin/reconciliations': {
      get: {
        summary: 'Every correction the reconciler made or tried (and every check that failed), newest first, with counts',
        parameters: parameters(ReconciliationsQuery, 'query'),
        responses: { '200': ok('{ reconciliations, nextBefore?, stats }'), ...common },
      },
    },
    '/admin/reconcile': {
      post: { summary: 'Run one reconciliation round now and report it (skipped if another process is running one)', responses: { '200': ok('the round: what each check found, corrected, failed or awaits'), ...common } },
    },
  });
}
