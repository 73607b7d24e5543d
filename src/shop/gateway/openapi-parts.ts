import { z } from 'zod';

/*
 * Building blocks of the OpenAPI document: request shapes come from the zod schemas that
 * validate the requests, so the document cannot drift from what the routes accept.
 * A route file's section is an `OpenApiPaths` (OpenAPI path → method → operation).
 */

export type OpenApiPaths = Record<string, Record<string, Record<string, unknown>>>;

export const json = (s: z.ZodType): Record<string, unknown> => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
export const body = (s: z.ZodType) => ({ required: !s.safeParse(undefined).success, content: { 'application/json': { schema: json(s) } } });
export const ok = (description: string, s?: z.ZodType) => ({ description, ...(s ? { content: { 'application/json': { schema: json(s) } } } : {}) });
export const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
export const common = {
  '400': err('invalid input, with a message per field'),
  '401': err('missing, invalid, expired or revoked bearer token'),
  '403': err('not allowed for this token'),
  '429': err('rate limit reached; see Retry-After'),
};

/** Operations only the admin token may call (the `admin` security scheme). */
export const adminOnly = [{ admin: [] }];

/** A section whose every operation needs the admin token. */
export function asAdminOnly(paths: OpenApiPaths): OpenApiPaths {
  return Object.fromEntries(Object.entries(paths).map(([path, ops]) => [path, Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, { ...op, security: adminOnly }]))]));
}

/** The properties of an object schema as OpenAPI parameters `in` the query or the path. */
export function parameters(s: z.ZodType, where: 'query' | 'path'): Record<string, unknown>[] {
  const j = json(s) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(j.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    ...(where === 'path' || j.required?.includes(name) ? { required: true } : {}),
    schema,
  }));
}
