import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_TOKEN_TTL_SECONDS, TOKEN_ID, type TokenService } from './auth.js';
import { targetParam } from './audit-hooks.js';
import { parseOr400 } from './http-errors.js';
import { asAdminOnly, body, common, err, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { principal, requireAdmin } from './order-routes.js';
import { plainText } from './schemas.js';
import type { TokenRevocations } from './security-api.js';

export const TokenBody = z
  .object({
    customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -'),
    ttlSeconds: z.number().int('whole seconds').min(60, 'at least 60 seconds').max(MAX_TOKEN_TTL_SECONDS, `at most ${MAX_TOKEN_TTL_SECONDS} seconds`).optional(),
  })
  .strict();
export const TokenIdParam = z.object({ id: z.string().regex(TOKEN_ID, 'must be a token id (16 of A-Z a-z 0-9 _ -)') });
export const RevokeBody = z.object({ reason: plainText(500).optional() }).strict().optional();

/** `POST /tokens` mints a customer token, `DELETE /tokens/:id` revokes one; admin token only, both audited. */
export function registerTokenRoutes(app: FastifyInstance, deps: { tokens: TokenService; revocations: TokenRevocations }): void {
  app.post('/tokens', { config: { audit: { action: 'token.mint', target: (req) => (req.body as { customerId?: unknown } | undefined)?.customerId?.toString().slice(0, 64) } } }, async (req, reply) => {
    requireAdmin(req);
    const b = parseOr400(TokenBody, req.body, 'body');
    const minted = deps.tokens.mint(b.customerId, b.ttlSeconds);
    return reply.code(201).send(minted);
  });
  app.delete('/tokens/:id', { config: { audit: { action: 'token.revoke', target: targetParam('id') } } }, async (req) => {
    requireAdmin(req);
    const { id } = parseOr400(TokenIdParam, req.params, 'path');
    const b = parseOr400(RevokeBody, req.body ?? undefined, 'body');
    const p = principal(req);
    return deps.revocations.revoke(id, p.kind === 'admin' ? p.actor : 'unknown', b?.reason);
  });
}

export function tokenOpenApiPaths(): OpenApiPaths {
  return asAdminOnly({
    '/tokens': {
      post: {
        summary: 'Mint a customer token: { token, tokenId, customerId, expiresAt } (default lifetime 30 days)',
        requestBody: body(TokenBody),
        responses: { '201': ok('the token, its id and its expiry'), ...common },
      },
    },
    '/tokens/{id}': {
      delete: {
        summary: 'Revoke a customer token by its id (the third part of the token); idempotent',
        parameters: parameters(TokenIdParam, 'path'),
        requestBody: body(RevokeBody),
        responses: { '200': ok('{ tokenId, revokedAt, alreadyRevoked }'), ...common, '400': err('not a token id') },
      },
    },
  });
}
