import { context, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, contextFromTraceparent, ordoTracer, traceFields, type Logger } from '../observe/index.js';

const SPAN = Symbol('ordo.span');
type Traced = FastifyRequest & { [SPAN]?: { span: Span; ctx: Context } };

/**
 * A server span per HTTP request (child of the caller's `traceparent` header, if any), the
 * active span while its handler runs, so the saga the request starts continues its trace;
 * and one log line per request with its request id and trace id.
 */
export function httpTracing(log: Logger): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('onRequest', (req: Traced, _reply, done) => {
      const parent = contextFromTraceparent(typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined, context.active());
      const span = ordoTracer().startSpan(`${req.method} ${req.url.split('?')[0] ?? ''}`, { kind: SpanKind.SERVER, attributes: { 'ordo.service': 'gateway', 'http.request.method': req.method, 'url.path': req.url.split('?')[0] ?? '', 'http.request_id': req.id } }, parent);
      req[SPAN] = { span, ctx: trace.setSpan(parent, span) };
      done();
    });
    // The handler runs synchronously inside `done`, so its async work inherits the span.
    app.addHook('preHandler', (req: Traced, _reply, done) => {
      const s = req[SPAN];
      if (s) context.with(s.ctx, done);
      else done();
    });
    app.addHook('onResponse', (req: Traced, reply, done) => {
      const s = req[SPAN];
      if (s) {
        const route = req.routeOptions.url ?? 'unmatched';
        s.span.updateName(`${req.method} ${route}`);
        s.span.setAttributes({ 'http.route': route, 'http.response.status_code': reply.statusCode });
        context.with(s.ctx, () => log.info({ reqId: req.id, method: req.method, route, status: reply.statusCode, ...traceFields() }, 'request'));
        s.span.end();
      }
      done();
    });
  };
}
