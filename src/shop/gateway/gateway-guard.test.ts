import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminBackend } from './admin-api.js';
import { createTokenService } from './auth.js';
import type { ShopBackend, StockChange } from './backend.js';
import { buildGateway } from './gateway.js';
import { memoryAuditTrail, memoryTokenRevocations } from './memory-security.js';
import type { StockView } from './schemas.js';
import type { AuditTrail } from './security-api.js';
import { NetworkListError, networkMatcher, type GatewaySecurityOptions } from './security-options.js';

/*
 * The request guard, the access log and the audit hooks over a stub backend (pure: no
 * database, requests through fastify's inject with a chosen client address).
 */

const stock: StockView = { sku: 'TEA', name: 'Tea', unitPrice: 850, available: 7, reserved: 2, shipped: 1 };

function stubBackend(calls: string[], hang = false): ShopBackend {
  const never = new Promise<never>(() => undefined);
  return {
    prices: () => Promise.resolve(new Map([['TEA', 850]])),
    placeOrder: () => Promise.resolve({ kind: 'placed', orderId: '00000000-0000-4000-8000-000000000000', status: 'INITIATED' }),
    getOrder: () => Promise.resolve(undefined),
    getOrderSummary: () => Promise.resolve(undefined),
    listOrders: () => Promise.resolve({ orders: [] }),
    cancelOrder: () => Promise.resolve({ status: 'CANCELED' }),
    confirmDelivery: () => Promise.resolve({ status: 'SHIPPED' }),
    listInventory: () => (hang ? never : Promise.resolve([stock])),
    getInventory: () => Promise.resolve(stock),
    putInventory: (sku, input): Promise<StockChange> => {
      calls.push(`put ${sku}`);
      return Promise.resolve({ kind: 'applied', stock: { ...stock, ...input } });
    },
    health: () => Promise.resolve({ ok: true }),
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: 'ordo_up 1\n' }),
  };
}

describe('the gateway guard', () => {
  let app: FastifyInstance | undefined;
  afterEach(() => app?.close());
  const tokens = createTokenService({ adminToken: 'adm_guard-test-token-0123456789' });
  const admin = { authorization: `Bearer ${tokens.adminToken}` };

  async function gateway(security: GatewaySecurityOptions = {}, extra: { hang?: boolean; audit?: AuditTrail; logLines?: string[]; calls?: string[] } = {}) {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        extra.logLines?.push(chunk.toString());
        done();
      },
    });
    const revocations = memoryTokenRevocations();
    const audit = extra.audit ?? memoryAuditTrail();
    app = await buildGateway({
      backend: stubBackend(extra.calls ?? [], extra.hang),
      admin: {} as AdminBackend,
      tokens,
      revocations,
      audit,
      security,
      logger: pino({ level: 'info' }, sink),
    });
    await app.ready();
    return { app, revocations, audit };
  }
  const get = (a: FastifyInstance, url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') => a.inject({ method: 'GET', url, headers, remoteAddress });

  it('limits each customer token per minute, with Retry-After, and not the other tokens', async () => {
    const { app } = await gateway({ rateLimit: { perToken: 3, perIp: 100 } });
    const alice = { authorization: `Bearer ${tokens.customerToken('alice')}` };
    const bob = { authorization: `Bearer ${tokens.customerToken('bob')}` };
    for (let i = 0; i < 3; i++) expect((await get(app, '/inventory', alice)).statusCode).toBe(200);
    const limited = await get(app, '/inventory', alice);
    expect(limited.statusCode).toBe(429);
    expect(limited.json<{ error: { code: string } }>().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(app, '/inventory', bob)).statusCode).toBe(200);
  });

  it('limits each address, unauthenticated requests included (token guessing), but never the admin token', async () => {
    const { app } = await gateway({ rateLimit: { perToken: 100, perIp: 4 } });
    const guesser = '198.51.100.7';
    for (let i = 0; i < 4; i++) expect((await get(app, '/inventory', { authorization: `Bearer guess-${i}` }, guesser)).statusCode).toBe(401);
    expect((await get(app, '/inventory', { authorization: 'Bearer guess-5' }, guesser)).statusCode).toBe(429);
    expect((await get(app, '/inventory', { authorization: `Bearer ${tokens.customerToken('carol')}` }, guesser)).statusCode).toBe(429);
    expect((await get(app, '/inventory', {}, '198.51.100.8')).statusCode).toBe(401);
    for (let i = 0; i < 10; i++) expect((await get(app, '/inventory', admin, guesser)).statusCode).toBe(200);
  });

  it('refuses a revoked token, and only that one', async () => {
    const { app, revocations } = await gateway();
    const one = tokens.mint('dave');
    const two = tokens.mint('dave');
    expect((await get(app, '/inventory', { authorization: `Bearer ${one.token}` })).statusCode).toBe(200);
    await revocations.revoke(one.tokenId, 'test');
    const r = await get(app, '/inventory', { authorization: `Bearer ${one.token}` });
    expect(r.statusCode).toBe(401);
    expect(r.json<{ error: { message: string } }>().error.message).toMatch(/revoked/);
    expect((await get(app, '/inventory', { authorization: `Bearer ${two.token}` })).statusCode).toBe(200);
  });

  it('serves /metrics and /openapi.json to the internal networks or the admin token only', async () => {
    const { app } = await gateway();
    for (const path of ['/metrics', '/openapi.json']) {
      expect((await get(app, path, {}, '203.0.113.9')).statusCode, path).toBe(403);
      expect((await get(app, path, admin, '203.0.113.9')).statusCode, path).toBe(200);
      for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.2', '::ffff:192.168.1.2', '::1', 'fd00::5']) expect((await get(app, path, {}, ip)).statusCode, `${path} from ${ip}`).toBe(200);
    }
    expect((await get(app, '/health', {}, '203.0.113.9')).statusCode).toBe(200);
    await app.close();
    const open = (await gateway({ internalNetworks: ['any'] })).app;
    expect((await get(open, '/metrics', {}, '203.0.113.9')).statusCode).toBe(200);
  });

  it('reads network lists strictly', () => {
    expect(networkMatcher(['192.0.2.0/24'])('192.0.2.77')).toBe(true);
    expect(networkMatcher(['192.0.2.0/24'])('192.0.3.1')).toBe(false);
    expect(networkMatcher(['2001:db8::/32'])('2001:db8::1')).toBe(true);
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0/8', '', 'fd00::/129']) expect(() => networkMatcher([bad]), bad).toThrow(NetworkListError);
  });

  it('sends no CORS headers unless origins are configured, then only to those', async () => {
    let { app } = await gateway();
    const preflight = (a: FastifyInstance, origin: string) =>
      a.inject({ method: 'OPTIONS', url: '/orders', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect((await get(app, '/inventory', { ...admin, origin: 'https://evil.example' })).headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight(app, 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    await app.close();
    ({ app } = await gateway({ corsOrigins: ['https://shop.example'] }));
    const ok = await preflight(app, 'https://shop.example');
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/authorization/);
    expect((await preflight(app, 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    expect((await get(app, '/inventory', { ...admin, origin: 'https://shop.example' })).headers['access-control-allow-origin']).toBe('https://shop.example');
  });

  it('answers 503 when a request is not answered in time', async () => {
    const { app } = await gateway({ requestTimeoutMs: 200 }, { hang: true });
    const r = await get(app, '/inventory', admin);
    expect(r.statusCode).toBe(503);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('TIMEOUT');
  });

  it('keeps a well-formed X-Request-Id and makes one otherwise', async () => {
    const { app } = await gateway();
    expect((await get(app, '/health', { 'x-request-id': 'trace-42.a:b' })).headers['x-request-id']).toBe('trace-42.a:b');
    expect((await get(app, '/health', { 'x-request-id': 'no spaces {}' })).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs every request with its id and caller, and never a token', async () => {
    const lines: string[] = [];
    const { app } = await gateway({}, { logLines: lines });
    const customer = tokens.customerToken('erin');
    await get(app, '/inventory', admin);
    await get(app, '/inventory', { authorization: `Bearer ${customer}`, 'x-request-id': 'req-erin' });
    await get(app, `/inventory/${customer}?token=${customer}&access_key=abc&status=SHIPPED`, admin);
    await get(app, `/orders?cursor=${tokens.adminToken}`, admin);
    await get(app, '/inventory', { authorization: 'Bearer wrong' });
    const log = lines.join('');
    expect(lines).toHaveLength(5);
    expect(log).not.toContain(tokens.adminToken);
    expect(log).not.toContain(customer);
    expect(log).not.toContain(customer.split('.').at(-1));
    expect(log).toContain('"reqId":"req-erin"');
    expect(log).toMatch(/"actor":"customer:erin\/[A-Za-z0-9_-]{16}"/);
    expect(log).toMatch(/"actor":"admin:[0-9a-f]{12}"/);
    expect(log).toContain('access_key=[redacted]');
    expect(log).toContain('status=SHIPPED');
  });

  it("records an admin action before it runs and its outcome after; a customer's refused call is not an admin action", async () => {
    const calls: string[] = [];
    const { app, audit } = await gateway({}, { calls });
    const r = await app.inject({ method: 'PUT', url: '/inventory/TEA', headers: { ...admin, 'x-request-id': 'req-stock' }, payload: { available: 9 } });
    expect(r.statusCode).toBe(200);
    expect((await app.inject({ method: 'PUT', url: '/inventory/TEA', headers: { authorization: `Bearer ${tokens.customerToken('frank')}` }, payload: { available: 0 } })).statusCode).toBe(403);
    const entries = await audit.list({ limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'stock.set',
      actor: expect.stringMatching(/^admin:/) as string,
      requestId: 'req-stock',
      method: 'PUT',
      path: '/inventory/TEA',
      target: 'TEA',
      input: { available: 9 },
      before: { sku: 'TEA', available: 7 },
      outcome: 'ok',
      status: 200,
      after: { sku: 'TEA', available: 9 },
    });
    expect(calls).toEqual(['put TEA']);
  });

  it('refuses an admin action it cannot record, and does not run it', async () => {
    const calls: string[] = [];
    const broken: AuditTrail = { ...memoryAuditTrail(), begin: () => Promise.reject(new Error('disk full')) };
    const { app } = await gateway({}, { calls, audit: broken });
    const r = await app.inject({ method: 'PUT', url: '/inventory/TEA', headers: admin, payload: { available: 9 } });
    expect(r.statusCode).toBe(503);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('AUDIT_UNAVAILABLE');
    expect(calls).toEqual([]);
  });
});
