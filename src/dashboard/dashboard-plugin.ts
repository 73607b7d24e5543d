import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ShopPluginContext } from '../shop/index.js';
import { registerDashboardStream, type DashboardStreamOptions } from './dashboard-stream.js';

/** The browser files, served as they are: no build step, no CDN (the page must work offline). */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'diagram.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'time-travel.js': 'text/javascript; charset=utf-8',
  'panels.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

const ASSET_DIR = new URL('./assets/', import.meta.url);

async function loadAssets(): Promise<Map<string, { type: string; body: string }>> {
  const out = new Map<string, { type: string; body: string }>();
  for (const [name, type] of Object.entries(ASSETS)) out.set(name, { type, body: await readFile(new URL(name, ASSET_DIR), 'utf8') });
  return out;
}

/**
 * The dashboard as a gateway plugin: `GET /` is the page, `/dashboard/<file>` its
 * scripts and styles. Both are public (the gateway lets them through); the page
 * reads everything else from `/admin/…` and `/orders…` with the admin token, and
 * `/admin/stream` pushes its live view and chart points (server-sent events).
 */
export function dashboardPlugin(options: DashboardStreamOptions = {}): (app: FastifyInstance, shop?: ShopPluginContext) => Promise<void> {
  return async (app, shop) => {
    // The live stream needs the shop's views; without them the page is static files only.
    if (shop) registerDashboardStream(app, shop, options);
    const assets = await loadAssets();
    const send = (name: string) => {
      const a = assets.get(name);
      if (!a) throw new Error(`dashboard asset ${name} missing`);
      return a;
    };
    app.get('/', async (_req, reply) => {
      const a = send('index.html');
      return reply.header('content-type', a.type).header('cache-control', 'no-store').send(a.body);
    });
    app.get('/dashboard/:file', async (req, reply) => {
      const { file } = req.params as { file: string };
      const a = assets.get(file);
      if (!a || file === 'index.html') return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no dashboard file ${file}` } });
      return reply.header('content-type', a.type).header('cache-control', 'no-cache').send(a.body);
    });
  };
}
