import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../store/index.js';
import { startTestShop } from '../e2e-support.js';
import type { RunningShop } from '../shop.js';

/*
 * Fuzzing the HTTP API of a real embedded shop (PGlite, in-process transport) with
 * fast-check: bodies, headers, paths, queries and token shapes. Two properties: no
 * request ever gets a 5xx, and a request that is refused (4xx) changes no row in any
 * service database. Requests go through fastify's inject (every hook and route, no
 * sockets), so a run is milliseconds; the run counts are bounded to keep this well
 * under a minute.
 */

/** Tables whose rows move by themselves or by design on refused requests: relay lease heartbeats, and the audit trail (it records refused admin attempts too). */
const MOVING = new Set(['ordo_checkpoints', 'gateway_audit']);

async function snapshot(dbs: Readonly<Record<string, Db | undefined>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [service, db] of Object.entries(dbs)) {
    if (!db) continue;
    const tables = (await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t).filter((t) => !MOVING.has(t));
    const sql = `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x) AS "${t}"`).join(', ')}`;
    const row = (await db.query<Record<string, string>>(sql)).rows[0] ?? {};
    for (const [t, hash] of Object.entries(row)) out[`${service}.${t}`] = hash;
  }
  return out;
}

const enc = encodeURIComponent;

describe('fuzzing the HTTP API (embedded shop)', () => {
  let shop: RunningShop;
  let admin: string;
  let customer: string;

  beforeAll(async () => {
    shop = await startTestShop('fuzz', {
      seed: false,
      reconcileIntervalMs: false,
      // The quiet world (no provider silence or retries): an order the fuzz manages to place settles in moments, with no timer left to fire later.
      // The limits are tested elsewhere; here every request should reach the routes.
      security: { rateLimit: { perToken: 0, perIp: 0 } },
    });
    admin = shop.tokens.adminToken;
    customer = shop.tokens.customerToken('alice');
  });
  afterAll(async () => shop?.stop());

  const segment = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.uuid(),
    fc.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    fc.constantFrom('TEA', '1', '0', '-1', '99999999999999999999', '..', '%', '\u0000', 'a\u0000b', ' ', 'a'.repeat(300), 'null', '[]', 'é', '😀'),
  );
  const pathWith = (make: (s: string) => string) => segment.map((s) => make(enc(s)));
  const query = fc.option(
    fc.dictionary(
      fc.constantFrom('status', 'customerId', 'limit', 'cursor', 'stuckAfterSeconds', 'includeReplayed', 'before', 'action', 'actor', 'outcome', 'check', 'orderId', 'ttl', 'x'),
      fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constantFrom('true', 'SHIPPED', 'alice', 'bob', '0', '100000', '', '\u0000', 'stock.set')),
      { maxKeys: 3 },
    ),
    { nil: undefined },
  );
  const numberish = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 1000 }) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1, 2 ** 31, 2 ** 52, 2 ** 53, 2 ** 53 + 2, 1e300, -1, 1.5), fc.string({ maxLength: 5 }), fc.constant(null)) },
  );
  const someString = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('alice', 'bob', 'TEA', 'TEA-GREEN', 'x') },
    { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('\u0000', 'a\u0000b', 'x'.repeat(300), '', '\ud800')) },
  );
  const orderBody = fc.record({ customerId: someString, items: fc.array(fc.record({ sku: someString, quantity: numberish }, { requiredKeys: ['sku', 'quantity'] }), { maxLength: 3 }) }, { requiredKeys: ['items'] });
  const stockBody = fc.record({ available: numberish, unitPrice: numberish, name: someString }, { requiredKeys: ['available'] });
  const tokenBody = fc.record({ customerId: someString, ttlSeconds: numberish }, { requiredKeys: ['customerId'] });
  const reasonBody = fc.option(fc.record({ reason: someString }, { requiredKeys: [] }), { nil: undefined });
  const anyBody = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 60 }).map((raw) => ({ raw })),
    fc.constantFrom({ raw: '{"items": [' }, { raw: '\u0000' }, { raw: '{"reason":"\\u0000"}' }, { raw: '{"available":1,"name":"\\u0000"}' }, { raw: '' }),
  );
  const bodyOr = (b: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: b }, { weight: 1, arbitrary: anyBody });

  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constant('admin').map(() => `Bearer ${admin}`) },
    { weight: 2, arbitrary: fc.constant('customer').map(() => `Bearer ${customer}`) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constant(undefined),
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
        fc.nat().map((i) => {
          const at = i % customer.length;
          return `Bearer ${customer.slice(0, at)}${customer[at] === 'A' ? 'B' : 'A'}${customer.slice(at + 1)}`;
        }),
        fc
          .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.stringMatching(/^[A-Za-z0-9_-]{16}$/), fc.integer({ min: 0, max: 2 ** 40 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/))
          .map(([c, id, exp, mac]) => `Bearer cust.${c}.${id}.${exp}.${mac}`),
        fc.constantFrom(0, 1, 2, 3, 4).map((k) => [`Bearer ${admin}x`, `bearer ${admin}`, `Bearer  ${admin}`, `Basic ${Buffer.from(`admin:${admin}`).toString('base64')}`, `Bearer ${admin.slice(0, -1)}`][k]),
      ),
    },
  );
  type Method = NonNullable<InjectOptions['method']>;
  const route = (method: Method | Method[], path: fc.Arbitrary<string>, body: fc.Arbitrary<unknown> = anyBody) =>
    fc.record({ method: Array.isArray(method) ? fc.constantFrom(...method) : fc.constant(method), path, body });
  // Most requests aim at a real route with a body of its shape (so they get past the first checks); the rest are anything at all.
  const target = fc.oneof(
    { weight: 12, arbitrary: fc.oneof(
      route('POST', fc.constant('/orders'), bodyOr(orderBody)),
      route('GET', fc.constantFrom('/orders', '/inventory', '/admin/overview', '/admin/dead-letters', '/admin/alerts', '/admin/stuck', '/admin/audit', '/admin/reconciliations', '/admin/machine')),
      route('GET', pathWith((s) => `/orders/${s}`)),
      route('POST', pathWith((s) => `/orders/${s}/cancel`), bodyOr(reasonBody)),
      route('POST', pathWith((s) => `/orders/${s}/delivery`)),
      route(['GET', 'PUT'], pathWith((s) => `/inventory/${s}`), bodyOr(stockBody)),
      route('POST', fc.constant('/tokens'), bodyOr(tokenBody)),
      route('DELETE', pathWith((s) => `/tokens/${s}`), bodyOr(reasonBody)),
      route('POST', pathWith((s) => `/admin/dead-letters/${s}/replay`)),
      route('POST', pathWith((s) => `/admin/orders/${s}/compensate`), bodyOr(reasonBody)),
      route('POST', pathWith((s) => `/admin/orders/${s}/retry-compensation`)),
      route('GET', pathWith((s) => `/admin/orders/${s}/attempts`)),
      route('POST', fc.constant('/admin/reconcile')),
    ) },
    { weight: 3, arbitrary: route(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'], fc.oneof(fc.constantFrom('/health', '/metrics', '/openapi.json', '/', '/dashboard/app.js'), pathWith((s) => `/dashboard/${s}`), fc.array(segment, { maxLength: 4 }).map((ss) => `/${ss.map(enc).join('/')}`))) },
  );
  const request = fc.record({
    target,
    query,
    token,
    contentType: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(undefined, 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1') }),
    idempotencyKey: fc.option(fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom('k-1', 'k-2')), { nil: undefined }),
    requestId: fc.option(fc.string({ maxLength: 140 }), { nil: undefined }),
  }).map(({ target: t, ...rest }) => ({ ...rest, method: t.method, path: t.path, body: t.body }));
  type Req = typeof request extends fc.Arbitrary<infer R> ? R : never;

  async function send(r: Req) {
    const headers: Record<string, string> = {};
    if (r.token !== undefined) headers['authorization'] = r.token;
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
    if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
    const qs = r.query ? Object.entries(r.query).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') : '';
    const payload = r.body === undefined ? undefined : typeof r.body === 'object' && r.body !== null && 'raw' in r.body && Object.keys(r.body).length === 1 ? String(r.body.raw) : JSON.stringify(r.body);
    const app = shop.app;
    if (!app) throw new Error('no gateway');
    try {
      return await app.inject({ method: r.method, url: `${r.path}${qs ? `?${qs}` : ''}`, headers, ...(payload !== undefined ? { payload } : {}) });
    } catch (err) {
      // inject refuses some inputs itself (e.g. a header value no HTTP client could send): nothing reached the server.
      if (err instanceof TypeError || (err as { code?: string }).code?.startsWith('ERR_')) return undefined;
      throw err;
    }
  }

  const describeRequest = (r: Req, status: number, body: string) => `${r.method} ${r.path} ${JSON.stringify(r.query ?? {})} token=${JSON.stringify(r.token)} body=${JSON.stringify(r.body)} → ${status} ${body.slice(0, 300)}`;

  it('never answers 5xx, whatever the request', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await send(r);
        if (!res) return;
        expect(res.statusCode, describeRequest(r, res.statusCode, res.body)).toBeLessThan(500);
      }),
      { numRuns: 600, seed: Number(process.env['ORDO_FUZZ_SEED'] ?? 20261206) },
    );
  });

  /**
   * Waits until the databases stop changing (an accepted request has consequences that run
   * on): three equal snapshots 150 ms apart, longer than a relay's 100 ms poll.
   */
  async function settle(): Promise<Record<string, string>> {
    let last = await snapshot(shop.dbs);
    let same = 0;
    for (let i = 0; i < 100 && same < 2; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const next = await snapshot(shop.dbs);
      same = JSON.stringify(next) === JSON.stringify(last) ? same + 1 : 0;
      last = next;
    }
    return last;
  }

  it('changes no row in any database when it refuses a request', async () => {
    let before = await settle();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await send(r);
        if (!res) return;
        expect(res.statusCode, describeRequest(r, res.statusCode, res.body)).toBeLessThan(500);
        if (res.statusCode < 400) {
          before = await settle();
          return;
        }
        const after = await snapshot(shop.dbs);
        const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
        expect(changed, describeRequest(r, res.statusCode, res.body)).toEqual([]);
      }),
      { numRuns: 150, seed: Number(process.env['ORDO_FUZZ_SEED'] ?? 20261206) + 1 },
    );
  });
});
