import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import { OrdoError } from '../../machine/index.js';
import type { Logger } from '../../observe/index.js';
import { registerAccessLog, redactUrl } from './access-log.js';
import type { AdminBackend } from './admin-api.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAuditHooks } from './audit-hooks.js';
import { registerAuditRoutes } from './audit-routes.js';
import type { TokenService } from './auth.js';
import type { ShopBackend } from './backend.js';
import { HttpError } from './http-errors.js';
import { registerInventoryRoutes } from './inventory-routes.js';
import { openApiDocument } from './openapi.js';
import { registerOrderRoutes } from './order-routes.js';
import { registerReconcileRoutes, type ReconcileBackend } from './reconcile-routes.js';
import { registerRequestGuard } from './request-guard.js';
import type { AuditTrail, TokenRevocations } from './security-api.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type GatewaySecurityOptions } from './security-options.js';
import { registerTokenRoutes } from './token-routes.js';

export interface GatewayOptions {
  readonly backend: ShopBackend;
  /** The operator's API under /admin (admin token only); absent = not served. */
  readonly admin?: AdminBackend;
  /** `GET /admin/reconciliations`, `POST /admin/reconcile` (admin token only); absent = not served. */
  readonly reconciler?: ReconcileBackend;
  readonly tokens: TokenService;
  /** Revoked customer tokens, checked on every request that carries one. */
  readonly revocations: TokenRevocations;
  /** Where every admin action is recorded (`GET /admin/audit`). */
  readonly audit: AuditTrail;
  readonly security?: GatewaySecurityOptions;
  readonly logger?: Logger;
  /** Largest accepted body (default 1 MiB); larger ones get 413. */
  readonly bodyLimit?: number;
  /** More routes (the dashboard), registered after the API. */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
  readonly onRequestDone?: (method: string, route: string, status: number) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function fastifyErrorToHttp(err: { statusCode?: number; code?: string; message: string }): HttpError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, 'BODY_TOO_LARGE', 'request body is too large');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new HttpError(400, 'VALIDATION', 'request body is empty; send a JSON object');
  if (err.statusCode === 400) return new HttpError(400, 'MALFORMED_JSON', `request body is not valid JSON: ${err.message}`);
  if (err.statusCode === 404) return new HttpError(404, 'NOT_FOUND', err.message);
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new HttpError(err.statusCode, err.code ?? 'BAD_REQUEST', err.message);
  return new HttpError(500, 'INTERNAL', 'internal error');
}

/** The HTTP gateway of DESIGN.md §3, over any ShopBackend. */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const security = options.security ?? {};
  const timeoutMs = security.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    logger: false,
    return503OnClosing: true,
    // A client gets this long to send its whole request (slow senders hold no socket forever).
    requestTimeout: timeoutMs,
    trustProxy: security.trustProxy ?? false,
    // A caller's X-Request-Id is kept when it is a plain token, so its logs and ours line up.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const { backend, tokens } = options;

  if ((security.corsOrigins?.length ?? 0) > 0) {
    await app.register(cors, {
      origin: [...(security.corsOrigins ?? [])],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
      maxAge: 600,
    });
  }
  await registerRequestGuard(app, { tokens, revocations: options.revocations, security });
  if (options.logger && security.accessLog !== false) registerAccessLog(app, options.logger, tokens.adminToken);
  registerAuditHooks(app, { audit: options.audit, adminToken: tokens.adminToken, ...(options.logger ? { log: options.logger } : {}) });
  app.addHook('onResponse', (req, reply, done) => {
    options.onRequestDone?.(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
    done();
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, req, reply) => {
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error instanceof OrdoError && error.code === 'INVALID_TRANSITION') http = new HttpError(409, 'INVALID_TRANSITION', error.message);
    else http = fastifyErrorToHttp(error);
    if (http.status >= 500) options.logger?.error({ err: error, reqId: req.id, url: redactUrl(req.url, tokens.adminToken) }, 'request failed');
    return reply.code(http.status).send(http.body());
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).body()));

  registerOrderRoutes(app, backend);
  registerInventoryRoutes(app, backend);
  registerTokenRoutes(app, { tokens, revocations: options.revocations });
  if (options.admin) {
    registerAdminRoutes(app, options.admin, async (id) => {
      const o = await backend.getOrderSummary(id);
      return o ? { status: o.status } : null;
    });
    registerAuditRoutes(app, options.audit);
  }
  if (options.reconciler) registerReconcileRoutes(app, options.reconciler);

  app.get('/openapi.json', (_req, reply) => reply.send(openApiDocument({ admin: options.admin !== undefined, reconcile: options.reconciler !== undefined })));
  app.get('/health', async (_req, reply) => {
    const h = await backend.health();
    return reply.code(h.ok ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => {
    const m = await backend.metrics();
    return reply.header('content-type', m.contentType).send(m.body);
  });
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
