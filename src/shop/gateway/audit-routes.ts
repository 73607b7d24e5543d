import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminOnly } from './admin-routes.js';
import { parseOr400 } from './http-errors.js';
import { asAdminOnly, common, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { plainText } from './schemas.js';
import type { AuditTrail } from './security-api.js';

export const AuditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.string().regex(/^\d{1,18}$/, 'must be an entry id (digits) from a previous page').optional(),
    action: z.string().regex(/^[a-z][a-z.-]{0,63}$/, 'must be an action name, e.g. stock.set').optional(),
    actor: plainText(200).optional(),
  })
  .strict();

/** `GET /admin/audit`: every admin action, newest first, a page at a time. */
export function registerAuditRoutes(app: FastifyInstance, audit: AuditTrail): void {
  app.get('/admin/audit', adminOnly, async (req) => {
    const q = parseOr400(AuditQuery, req.query, 'query');
    const entries = await audit.list({ limit: q.limit, ...(q.before ? { before: q.before } : {}), ...(q.action ? { action: q.action } : {}), ...(q.actor ? { actor: q.actor } : {}) });
    const last = entries[entries.length - 1];
    return { entries, ...(entries.length === q.limit && last ? { nextBefore: last.id } : {}) };
  });
}

export function auditOpenApiPaths(): OpenApiPaths {
  return asAdminOnly({
    '/admin/audit': {
      get: {
        summary: 'The audit trail: every admin action (actor, time, request id, target, input, before, outcome, after), newest first',
        parameters: parameters(AuditQuery, 'query'),
        responses: { '200': ok('{ entries, nextBefore? }'), ...common },
      },
    },
  });
}
