import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { OrdoError } from '../../machine/index.js';
import type { Logger } from '../../observe/index.js';
import type { AdminBackend } from './admin-api.js';
import { registerAdminRoutes } from './admin-routes.js';
import type { TokenService } from './auth.js';
import type { ShopBackend } from './backend.js';
import { HttpError, parseOr400 } from './http-errors.js';
import { registerInventoryRoutes } from './inventory-routes.js';
import { openApiDocument } from './openapi.js';
import { registerOrderRoutes, requireAdmin } from './order-routes.js';
import { registerReconcileRoutes, type ReconcileBackend } from './reconcile-routes.js';
import { TokenBody } from './schemas.js';

export interface GatewayOptions {
  readonly backend: ShopBackend;
  /** The operator's API under /admin (admin token only); absent = not served. */
  readonly admin?: AdminBackend;
  /** `GET /admin/reconciliations`, `POST /admin/reconcile` (admin token only); absent = not served. */
  readonly reconciler?: ReconcileBackend;
  readonly tokens: TokenService;
  readonly logger?: Logger;
  /** Largest accepted body (default 1 MiB); larger ones get 413. */
  readonly bodyLimit?: number;
  /** More routes (the dashboard), registered after the API. */
  readonly plugins?: readonly ((app: FastifyInstance) => void | Promise<void>)[];
  readonly onRequestDone?: (method: string, route: string, status: number) => void;
}

const PUBLIC = new Set(['/health', '/metrics', '/openapi.json', '/']);

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
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 1024 * 1024, logger: false, return503OnClosing: true });
  const { backend, tokens } = options;

  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    const principal = tokens.verify(req.headers.authorization);
    if (principal) (req as FastifyRequest & { principal?: typeof principal }).principal = principal;
    const path = req.url.split('?')[0] ?? '';
    if (!principal && !PUBLIC.has(path) && !path.startsWith('/dashboard/')) done(new HttpError(401, 'UNAUTHENTICATED', 'missing or invalid bearer token (Authorization: Bearer …)'));
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    options.onRequestDone?.(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
    done();
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, req, reply) => {
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error instanceof OrdoError && error.code === 'INVALID_TRANSITION') http = new HttpError(409, 'INVALID_TRANSITION', error.message);
    else http = fastifyErrorToHttp(error);
    if (http.status >= 500) options.logger?.error({ err: error, url: req.url }, 'request failed');
    return reply.code(http.status).send(http.body());
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).body()));

  registerOrderRoutes(app, backend);
  registerInventoryRoutes(app, backend);
  if (options.admin) registerAdminRoutes(app, options.admin);
  if (options.reconciler) registerReconcileRoutes(app, options.reconciler);

  app.post('/tokens', async (req, reply) => {
    requireAdmin(req);
    const { customerId } = parseOr400(TokenBody, req.body, 'body');
    return reply.code(201).send({ customerId, token: tokens.customerToken(customerId) });
  });
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
