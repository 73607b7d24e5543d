import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { opsSample, serviceDeadLetters, type OpsSample, type ShopPluginContext } from '../shop/index.js';

export interface DashboardStreamOptions {
  /** How often a chart point is taken (default 5 s). */
  readonly sampleMs?: number;
  /** How often the live state is read and pushed when it changed (default 1 s). */
  readonly stateMs?: number;
  /** Chart points kept (default 720: an hour at 5 s). */
  readonly historySize?: number;
}

interface Client {
  readonly res: ServerResponse;
  readonly stuckAfter: number;
  last: string;
}

const DEFAULT_STUCK_AFTER = 60;

/**
 * `GET /admin/stream` (admin token): server-sent events for the dashboard. On connect,
 * `history` (the chart points this server kept) and `state`; then `sample` for each new
 * point and `state` whenever the live view (overview, alerts, stuck, dead letters of every
 * service, reconciliations, inventory) changed. The page reads the stream with `fetch`, so
 * the token travels in the Authorization header like every other call, never in a URL.
 */
export function registerDashboardStream(app: FastifyInstance, shop: ShopPluginContext, options: DashboardStreamOptions = {}): void {
  const sampleMs = options.sampleMs ?? 5000;
  const stateMs = options.stateMs ?? 1000;
  const historySize = options.historySize ?? 720;
  const history: OpsSample[] = [];
  const clients = new Set<Client>();
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  const send = (c: Client, event: string, data: unknown) => void c.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  async function liveState(stuckAfter: number) {
    const [overview, alerts, stuck, deadLetters, services, reconciliations, inventory] = await Promise.all([
      shop.admin.overview(stuckAfter),
      shop.admin.alerts({ includeResolved: false, limit: 50 }),
      shop.admin.stuck(50, stuckAfter),
      shop.admin.deadLetters({ includeReplayed: false, limit: 50 }),
      serviceDeadLetters(shop.dbs, 50),
      shop.reconciler ? shop.reconciler.list({ limit: 5 }) : Promise.resolve([]),
      shop.listInventory(),
    ]);
    return { overview, alerts, stuck, deadLetters, serviceDeadLetters: services, reconciliations, inventory };
  }

  /** Pushes the live state to the clients whose view changed; one read per stuck threshold in use. */
  async function pushState(only?: Client): Promise<void> {
    const targets = only ? [only] : [...clients];
    for (const after of new Set(targets.map((c) => c.stuckAfter))) {
      const state = await liveState(after);
      // `at` changes every read: compare the rest, so an idle shop sends nothing.
      const key = JSON.stringify({ ...state, overview: { ...state.overview, at: '' } });
      for (const c of targets) {
        if (c.stuckAfter !== after || c.last === key) continue;
        c.last = key;
        send(c, 'state', state);
      }
    }
  }

  async function sample(): Promise<void> {
    const s = await opsSample(shop.dbs, shop.machineId);
    history.push(s);
    if (history.length > historySize) history.splice(0, history.length - historySize);
    for (const c of clients) send(c, 'sample', s);
  }

  function every(ms: number, run: () => Promise<void>): void {
    const tick = () => {
      if (stopped) return;
      run()
        .catch((err: unknown) => app.log.warn({ err }, 'dashboard stream tick failed'))
        .finally(() => {
          if (stopped) return;
          const t = setTimeout(tick, ms);
          t.unref();
          timers.add(t);
        });
    };
    tick();
  }

  app.addHook('onReady', (done) => {
    every(sampleMs, sample);
    every(stateMs, async () => (clients.size > 0 ? pushState() : undefined));
    done();
  });
  app.addHook('preClose', (done) => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    for (const c of clients) c.res.end();
    clients.clear();
    done();
  });

  app.get('/admin/stream', async (req, reply) => {
    shop.requireAdmin(req);
    const q = req.query as { stuckAfterSeconds?: string };
    const asked = Number(q.stuckAfterSeconds);
    const stuckAfter = Number.isInteger(asked) && asked >= 1 && asked <= 86_400 ? asked : DEFAULT_STUCK_AFTER;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const client: Client = { res, stuckAfter, last: '' };
    clients.add(client);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      clients.delete(client);
    });
    send(client, 'history', history);
    await pushState(client).catch((err: unknown) => send(client, 'problem', { message: err instanceof Error ? err.message : String(err) }));
  });
}
