import { z } from 'zod';
import { ListOrdersQuery, OrderDetails, OrderSummary, PlaceOrderBody, PutInventoryBody, StockView, TokenBody, CancelBody } from './schemas.js';

const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: json(s) } } });
const ok = (description: string, s?: z.ZodType) => ({ description, ...(s ? { content: { 'application/json': { schema: json(s) } } } : {}) });
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const common = { '400': err('invalid input, with a message per field'), '401': err('missing or invalid bearer token'), '403': err('not allowed for this token') };

/** The OpenAPI 3.1 document of the gateway, generated from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const queryParams = Object.entries((json(ListOrdersQuery) as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema }));
  return {
    openapi: '3.1.0',
    info: { title: 'ordo shop gateway', version: '0.1.0', description: 'The reference e-commerce order system (DESIGN.md §3). Amounts are in cents.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, fields: { type: 'array' } } } } } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/orders': {
        post: {
          summary: 'Place an order (honours Idempotency-Key)',
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
          requestBody: body(PlaceOrderBody),
          responses: { '202': ok('accepted; the saga runs on', OrderSummary), ...common, '409': err('Idempotency-Key reused with another request'), '413': err('body too large') },
        },
        get: { summary: 'Search orders', parameters: queryParams, responses: { '200': ok('a page of orders and the next cursor'), ...common } },
      },
      '/orders/{id}': { get: { summary: 'One order with its timeline', responses: { '200': ok('the order', OrderDetails), ...common, '404': err('no such order') } } },
      '/orders/{id}/cancel': { post: { summary: 'Cancel an order', requestBody: { ...body(CancelBody), required: false }, responses: { '202': ok('cancellation under way'), ...common, '409': err('too late to cancel') } } },
      '/orders/{id}/delivery': { post: { summary: 'Carrier confirms delivery (admin)', responses: { '202': ok('confirmed'), ...common, '409': err('not shipped') } } },
      '/inventory': { get: { summary: 'Stock of every SKU', responses: { '200': ok('stock', z.array(StockView)), ...common } } },
      '/inventory/{sku}': {
        get: { summary: 'Stock of one SKU', responses: { '200': ok('stock', StockView), ...common, '404': err('no such SKU') } },
        put: { summary: 'Set available stock (admin)', requestBody: body(PutInventoryBody), responses: { '200': ok('stock', StockView), ...common } },
      },
      '/tokens': { post: { summary: 'Mint a customer token (admin)', requestBody: body(TokenBody), responses: { '201': ok('token'), ...common } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': ok('text exposition format') } } },
      '/health': { get: { summary: 'Liveness and dependencies', security: [], responses: { '200': ok('healthy'), '503': ok('unhealthy') } } },
    },
  };
}
