import { z } from 'zod';
import { adminOpenApiPaths } from './admin-openapi.js';
import { reconcileOpenApiPaths } from './reconcile-routes.js';
import { adminOnly, body, common, err, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { CancelBody, ListOrdersQuery, OrderDetails, OrderIdParam, OrderSummary, PlaceOrderBody, PutInventoryBody, SkuParam, StockView, TokenBody } from './schemas.js';

const orderId = parameters(OrderIdParam, 'path');
const sku = parameters(SkuParam, 'path');

/** The customer-facing API (order-routes.ts, inventory-routes.ts) and the gateway's own routes. */
function apiPaths(): OpenApiPaths {
  return {
    '/orders': {
      post: {
        summary: 'Place an order (honours Idempotency-Key)',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
        requestBody: body(PlaceOrderBody),
        responses: { '202': ok('accepted; the saga runs on', OrderSummary), ...common, '409': err('Idempotency-Key reused with another request'), '413': err('body too large') },
      },
      get: { summary: 'Search orders', parameters: parameters(ListOrdersQuery, 'query'), responses: { '200': ok('a page of orders and the next cursor'), ...common } },
    },
    '/orders/{id}': { get: { summary: 'One order with its timeline', parameters: orderId, responses: { '200': ok('the order', OrderDetails), ...common, '404': err('no such order') } } },
    '/orders/{id}/cancel': { post: { summary: 'Cancel an order', parameters: orderId, requestBody: body(CancelBody), responses: { '202': ok('cancellation under way'), ...common, '409': err('too late to cancel') } } },
    '/orders/{id}/delivery': { post: { summary: 'Carrier confirms delivery (admin)', parameters: orderId, security: adminOnly, responses: { '202': ok('confirmed'), ...common, '409': err('not shipped') } } },
    '/inventory': { get: { summary: 'Stock of every SKU', responses: { '200': ok('stock', z.array(StockView)), ...common } } },
    '/inventory/{sku}': {
      get: { summary: 'Stock of one SKU', parameters: sku, responses: { '200': ok('stock', StockView), ...common, '404': err('no such SKU') } },
      put: { summary: 'Set available stock (admin)', parameters: sku, security: adminOnly, requestBody: body(PutInventoryBody), responses: { '200': ok('stock', StockView), ...common } },
    },
    '/tokens': { post: { summary: 'Mint a customer token (admin)', security: adminOnly, requestBody: body(TokenBody), responses: { '201': ok('token'), ...common } } },
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': ok('OpenAPI 3.1') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': ok('text exposition format') } } },
    '/health': { get: { summary: 'Liveness and dependencies', security: [], responses: { '200': ok('healthy'), '503': ok('unhealthy') } } },
  };
}

/**
 * The OpenAPI 3.1 document of the gateway, generated from the same zod schemas that
 * validate requests. `admin: false` leaves out the operator's API (a gateway without it).
 * A new group of routes adds its section (an OpenApiPaths, see admin-openapi.ts) here.
 */
export function openApiDocument(options: { admin?: boolean; reconcile?: boolean } = {}): Record<string, unknown> {
  const sections = [apiPaths(), ...(options.admin === false ? [] : [adminOpenApiPaths()]), ...(options.reconcile === false ? [] : [reconcileOpenApiPaths()])];
  return {
    openapi: '3.1.0',
    info: { title: 'ordo shop gateway', version: '0.1.0', description: 'The reference e-commerce order system (DESIGN.md §3). Amounts are in cents.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a customer token (POST /tokens) or the admin token' },
        admin: { type: 'http', scheme: 'bearer', description: 'the admin token (ORDO_ADMIN_TOKEN, or printed at start)' },
      },
      schemas: { Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, fields: { type: 'array' } } } } } },
    },
    security: [{ bearer: [] }],
    paths: Object.assign({}, ...sections) as OpenApiPaths,
  };
}
