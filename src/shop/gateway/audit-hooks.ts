import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../../observe/index.js';
import { actorOf, redactUrl } from './access-log.js';
import type { Principal } from './auth.js';
import { HttpError } from './http-errors.js';
import type { AuditTrail } from './security-api.js';

/** How a route's admin calls are recorded: `config: { audit: { … } }` in its options. */
export interface AuditSpec {
  /** e.g. `stock.set`, `order.compensate`. */
  readonly action: string;
  /** What is acted on (an order id, a SKU, a token id), from the request. */
  readonly target?: (req: FastifyRequest) => string | undefined;
  /** The target before the action; a failure to read it is recorded as absent, never stops the action. */
  readonly before?: (req: FastifyRequest) => Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditSpec;
  }
}

const param = (name: string) => (req: FastifyRequest) => {
  const v = (req.params as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.slice(0, 200) : undefined;
};

/** `audit.target` for a route whose target is a path parameter. */
export const targetParam = param;

/** A minted token (or anything named so) is a credential: the record keeps that it was there, not what it was. */
function withoutTokens(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTokens);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /^(token|secret|password)$/i.test(k) ? '[redacted]' : withoutTokens(v)]));
}

function parsed(payload: unknown): unknown {
  if (typeof payload !== 'string') return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Records every admin call of a route that has an `audit` spec, in the route layer, so
 * anything that calls the admin routes (the dashboard, curl, a script) is caught: the
 * record is written before the action (if it cannot be, the action does not run) and
 * completed with the status and the response (the target after) when it is sent.
 */
export function registerAuditHooks(app: FastifyInstance, deps: { audit: AuditTrail; adminToken: string; log?: Logger }): void {
  const open = new WeakMap<FastifyRequest, string>();
  app.addHook('preHandler', async (req: FastifyRequest & { principal?: Principal }) => {
    const spec = req.routeOptions.config.audit;
    if (!spec || req.principal?.kind !== 'admin') return;
    let before: unknown;
    try {
      before = await spec.before?.(req);
    } catch {
      before = undefined;
    }
    try {
      const id = await deps.audit.begin({
        actor: actorOf(req.principal),
        action: spec.action,
        requestId: req.id,
        method: req.method,
        path: redactUrl(req.url, deps.adminToken),
        ...(spec.target?.(req) !== undefined ? { target: spec.target(req) } : {}),
        ...(req.body !== undefined && req.body !== null ? { input: withoutTokens(req.body) } : {}),
        ...(before !== undefined ? { before } : {}),
      });
      open.set(req, id);
    } catch (err) {
      deps.log?.error({ err, reqId: req.id, action: spec.action }, 'audit: could not record an admin action; refused it');
      throw new HttpError(503, 'AUDIT_UNAVAILABLE', 'the audit trail cannot be written, so the action was not run; try again');
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const id = open.get(req);
    if (id === undefined) return payload;
    open.delete(req);
    const body = withoutTokens(parsed(payload));
    const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
    const outcome = reply.statusCode < 400 ? 'ok' : typeof code === 'string' ? code : `HTTP_${reply.statusCode}`;
    await deps.audit.finish(id, { outcome, status: reply.statusCode, ...(body !== undefined ? { after: body } : {}) }).catch((err: unknown) => {
      deps.log?.error({ err, reqId: req.id, auditId: id }, 'audit: the outcome of an admin action was not recorded (the record stays pending)');
    });
    return payload;
  });
}
