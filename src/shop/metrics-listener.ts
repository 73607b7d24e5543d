import Fastify from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsListenerOptions {
  readonly registry: Registry;
  /** `ok: false` answers 503, so a probe or a scraper's `up` sees a process whose broker is down. */
  readonly health: () => Promise<{ ok: boolean; [detail: string]: unknown }>;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
}

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` and `GET /health` for a process that runs services but not the gateway
 * (which serves both itself): without it, the metrics of the orders process (broker,
 * reconciler) could not be scraped.
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', options.registry.contentType).send(await options.registry.metrics()));
  app.get('/health', async (_req, reply) => {
    const h = await options.health();
    return reply.code(h.ok ? 200 : 503).send(h);
  });
  const url = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  return { url, close: () => app.close() };
}
