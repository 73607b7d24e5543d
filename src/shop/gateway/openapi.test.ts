import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminBackend } from './admin-api.js';
import { createTokenService } from './auth.js';
import type { ShopBackend } from './backend.js';
import { buildGateway } from './gateway.js';
import { memoryAuditTrail, memoryTokenRevocations } from './memory-security.js';

type Operation = { security?: unknown; parameters?: { name: string; in: string; required?: boolean }[]; requestBody?: { required: boolean } };
type Document = { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme: string }> } };

// Only the routes are looked at: no request reaches a backend.
const backend = {} as ShopBackend;
const admin = {} as AdminBackend;

/** Every "METHOD /path" the gateway serves (OpenAPI path syntax), from fastify's route tree. */
function servedRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

describe('GET /openapi.json', () => {
  let app: FastifyInstance | undefined;
  afterEach(() => app?.close());

  const load = async (withAdmin: boolean) => {
    app = await buildGateway({ backend, tokens: createTokenService(), revocations: memoryTokenRevocations(), audit: memoryAuditTrail(), ...(withAdmin ? { admin } : {}) });
    await app.ready();
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    return { app, doc: r.json<Document>() };
  };

  it('documents every route the gateway serves, the admin API included', async () => {
    const { app, doc } = await load(true);
    const served = servedRoutes(app);
    expect(served).toContain('POST /admin/orders/{id}/compensate'); // the tree was read
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(served.sort());
  });

  it('gives every admin operation the admin security scheme and its parameters from the zod schemas', async () => {
    const { doc } = await load(true);
    expect(doc.components.securitySchemes['admin']).toMatchObject({ type: 'http', scheme: 'bearer' });
    const adminPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/admin/'));
    expect(adminPaths.sort()).toEqual(
      [
        '/admin/overview',
        '/admin/machine',
        '/admin/dead-letters',
        '/admin/dead-letters/{id}/replay',
        '/admin/alerts',
        '/admin/stuck',
        '/admin/orders/{id}/retry-compensation',
        '/admin/orders/{id}/attempts',
        '/admin/orders/{id}/compensate',
        '/admin/audit',
      ].sort(),
    );
    for (const p of adminPaths) for (const op of Object.values(doc.paths[p]!)) expect(op.security, p).toEqual([{ admin: [] }]);
    const names = (op: Operation | undefined) => op?.parameters?.map((x) => `${x.in}:${x.name}${x.required ? '!' : ''}`);
    expect(names(doc.paths['/admin/stuck']?.['get'])).toEqual(['query:stuckAfterSeconds', 'query:limit']);
    expect(names(doc.paths['/admin/dead-letters']?.['get'])).toEqual(['query:includeReplayed', 'query:limit']);
    expect(names(doc.paths['/admin/dead-letters/{id}/replay']?.['post'])).toEqual(['path:id!']);
    expect(doc.paths['/admin/orders/{id}/compensate']?.['post']?.requestBody?.required).toBe(false);
    // The customer API keeps the default scheme; its admin-only operations say so.
    expect(doc.paths['/orders']?.['post']?.security).toBeUndefined();
    expect(doc.paths['/tokens']?.['post']?.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/tokens/{id}']?.['delete']?.security).toEqual([{ admin: [] }]);
    expect(names(doc.paths['/admin/audit']?.['get'])).toEqual(['query:limit', 'query:before', 'query:action', 'query:actor']);
    expect(doc.paths['/orders']?.['post']?.requestBody?.required).toBe(true);
  });

  it('leaves the admin API out when the gateway does not serve it', async () => {
    const { app, doc } = await load(false);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
    expect(servedRoutes(app).filter((r) => r.includes('/admin'))).toEqual([]);
  });
});
