import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../../observe/index.js';
import type { Principal } from './auth.js';

const SENSITIVE_PARAM = /^(.*(token|secret|password|key|auth).*)$/i;
const TOKEN_LIKE = /(cust\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_.-]+|adm_[A-Za-z0-9_-]+)/g;

/**
 * A URL as it may be logged: query values whose names look secret are replaced, and
 * anything shaped like an ordo token is cut out wherever it appears (a client that puts a
 * token in a path or a query by mistake must not leak it into the logs). Headers are never
 * logged, so the Authorization header never is.
 */
export function redactUrl(url: string, adminToken: string): string {
  const [path = '', query] = url.split('?', 2);
  const clean = (s: string) => (adminToken ? s.split(adminToken).join('[redacted]') : s).replace(TOKEN_LIKE, '[redacted]');
  if (query === undefined) return clean(path);
  const params = query.split('&').map((pair) => {
    const [name = '', ...value] = pair.split('=');
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // a malformed escape: judge the raw name
    }
    return value.length > 0 && SENSITIVE_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
  });
  return clean(`${path}?${params.join('&')}`);
}

/** Who made a request, as the access log and the audit trail name it: never the token itself. */
export function actorOf(p: Principal | undefined): string {
  if (!p) return 'anonymous';
  return p.kind === 'admin' ? p.actor : `customer:${p.customerId}/${p.tokenId}`;
}

/** One line per answered request: request id, who, what, how it ended, how long it took. */
export function registerAccessLog(app: FastifyInstance, log: Logger, adminToken: string): void {
  app.addHook('onResponse', async (req: FastifyRequest & { principal?: Principal }, reply) => {
    log.info(
      {
        reqId: req.id,
        method: req.method,
        url: redactUrl(req.url, adminToken),
        route: req.routeOptions.url ?? null,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        actor: actorOf(req.principal),
        ip: req.ip,
      },
      'http request',
    );
  });
}
