import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, TokenService } from './auth.js';
import { HttpError } from './http-errors.js';
import type { TokenRevocations } from './security-api.js';
import { DEFAULT_RATE_PER_IP, DEFAULT_RATE_PER_TOKEN, DEFAULT_REQUEST_TIMEOUT_MS, networkMatcher, type GatewaySecurityOptions } from './security-options.js';

/** Served to anyone: liveness and the dashboard's static files (the page asks for a token). */
const PUBLIC = new Set(['/health', '/']);
/** Served to the internal networks, or with the admin token. */
const INTERNAL = new Set(['/metrics', '/openapi.json']);

type GuardedRequest = FastifyRequest & { principal?: Principal };

function pathOf(url: string): string {
  return url.split('?')[0] ?? '';
}

function tooMany(reply: FastifyReply, scope: string, limit: { max: number; ttlInSeconds: number }): HttpError {
  void reply.header('retry-after', String(limit.ttlInSeconds));
  return new HttpError(429, 'RATE_LIMITED', `too many requests ${scope} (${limit.max} a minute); retry in ${limit.ttlInSeconds} s`);
}

/**
 * The checks every request passes before a route sees it, in this order: request id,
 * deadline, who is calling (signature and expiry), rate limits (per IP unless admin, per
 * customer token), revocation, then whether the route needs a token at all. Unauthenticated
 * requests are counted by the IP limit too, so guessing tokens is slow.
 */
export async function registerRequestGuard(app: FastifyInstance, deps: { tokens: TokenService; revocations: TokenRevocations; security: GatewaySecurityOptions }): Promise<void> {
  const { tokens, revocations, security } = deps;
  const perToken = security.rateLimit?.perToken ?? DEFAULT_RATE_PER_TOKEN;
  const perIp = security.rateLimit?.perIp ?? DEFAULT_RATE_PER_IP;
  const timeoutMs = security.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const internal = networkMatcher(security.internalNetworks ?? ['private']);
  const cors = (security.corsOrigins?.length ?? 0) > 0;

  await app.register(rateLimit, { global: false });
  const ipLimit = perIp > 0 ? app.createRateLimit({ max: perIp, timeWindow: 60_000, keyGenerator: (req) => `ip:${req.ip}` }) : undefined;
  const tokenOf = (req: FastifyRequest) => {
    const p = (req as GuardedRequest).principal;
    return p?.kind === 'customer' ? p.tokenId : '';
  };
  const tokenLimit = perToken > 0 ? app.createRateLimit({ max: perToken, timeWindow: 60_000, keyGenerator: (req) => `token:${tokenOf(req)}` }) : undefined;

  const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  app.addHook('onRequest', async (req: GuardedRequest, reply) => {
    void reply.header('x-request-id', req.id);
    if (timeoutMs > 0) {
      const timer = setTimeout(() => {
        if (reply.sent) return;
        const err = new HttpError(503, 'TIMEOUT', `no answer within ${timeoutMs} ms; the request may still complete (retry a POST /orders with the same Idempotency-Key)`);
        void reply.code(503).send(err.body());
      }, timeoutMs);
      timer.unref();
      deadlines.set(req, timer);
    }
    // A CORS preflight carries no credentials by design; the CORS plugin answers it.
    if (cors && req.method === 'OPTIONS') return;

    const principal = tokens.verify(req.headers.authorization);
    if (principal) req.principal = principal;
    if (principal?.kind !== 'admin' && ipLimit) {
      const l = await ipLimit(req);
      if (!l.isAllowed && l.isExceeded) throw tooMany(reply, 'from this address', l);
    }
    if (principal?.kind === 'customer') {
      if (tokenLimit) {
        const l = await tokenLimit(req);
        if (!l.isAllowed && l.isExceeded) throw tooMany(reply, 'for this token', l);
      }
      if (await revocations.isRevoked(principal.tokenId)) {
        delete req.principal;
        throw new HttpError(401, 'UNAUTHENTICATED', 'this token was revoked');
      }
    }
    const path = pathOf(req.url);
    if (PUBLIC.has(path) || path.startsWith('/dashboard/')) return;
    if (INTERNAL.has(path)) {
      if (principal?.kind === 'admin' || internal(req.ip)) return;
      throw new HttpError(403, 'FORBIDDEN', `${path} is served to the internal networks only (or with the admin token)`);
    }
    if (!req.principal) throw new HttpError(401, 'UNAUTHENTICATED', 'missing, invalid or expired bearer token (Authorization: Bearer …)');
  });
  app.addHook('onResponse', (req, _reply, done) => {
    const timer = deadlines.get(req);
    if (timer) clearTimeout(timer);
    done();
  });
}
