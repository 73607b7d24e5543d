import { z } from 'zod';
import { adminOpenApiPaths } from './admin-openapi.js';
import { auditOpenApiPaths } from './audit-routes.js';
import { reconcileOpenApiPaths } from './reconcile-routes.js';
import { adminOnly, body, common, err, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { CancelBody, CustomerStockView, ListOrdersQuery, OrderDetails, OrderIdParam, OrderSummary, PlaceOrderBody, PutInventoryBody, SkuParam, StockAccepted, StockView } from './schemas.js';
import { tokenOpenApiPaths } from './token-routes.js';

const stockEither = z.union([StockView, CustomerStockView]);

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
        responses: {
          '202': ok('accepted; the saga runs on', OrderSummary),
          ...common,
          '400': err('invalid input with a message per field; AMOUNT_OUT_OF_RANGE when a line total or the order total is past 2^53 − 1 cents'),
          '409': err('Idempotency-Key reused with another request'),
          '413': err('body too large'),
        },
      },
      get: {
        summary: "Search orders, newest first, from the order_view read model (eventually consistent: behind the orders by a fraction of a second). A customer token sees only its own orders: customerId may be left out (it is the token's) and another customer's is 403",
        parameters: parameters(ListOrdersQuery, 'query'),
        responses: { '200': ok('a page of orders and the next cursor'), ...common },
      },
    },
    '/orders/{id}': {
      get: {
        summary: "One order with its timeline. The admin sees every message, retry and dead letter; a customer sees the state changes only, and another customer's order is 404",
        parameters: orderId,
        responses: { '200': ok('the order', OrderDetails), ...common, '404': err('no such order') },
      },
    },
    '/orders/{id}/cancel': { post: { summary: 'Cancel an order', parameters: orderId, requestBody: body(CancelBody), responses: { '202': ok('cancellation under way'), ...common, '409': err('too late to cancel') } } },
    '/orders/{id}/delivery': { post: { summary: 'Carrier confirms delivery (admin)', parameters: orderId, security: adminOnly, responses: { '202': ok('confirmed'), ...common, '409': err('not shipped') } } },
    '/inventory': {
      get: { summary: "Every SKU from the gateway's catalogue: price and availability; the admin also sees reserved and shipped", responses: { '200': ok('stock', z.array(stockEither)), ...common } },
    },
    '/inventory/{sku}': {
      get: { summary: 'One SKU (as GET /inventory)', parameters: sku, responses: { '200': ok('stock', stockEither), ...common, '404': err('no such SKU') } },
      put: {
        summary:
          "Set a SKU's available stock, name and price (admin). Sent to the inventory service as a SetStock command; the answer waits (up to 5 s) until the gateway's catalogue shows it applied",
        parameters: sku,
        security: adminOnly,
        requestBody: body(PutInventoryBody),
        responses: { '200': ok('applied: the SKU as it is now', StockView), '202': ok('accepted but not yet applied within the wait; it will be', StockAccepted), ...common },
      },
    },
    '/openapi.json': { get: { summary: 'This document (internal networks, or the admin token)', security: [], responses: { '200': ok('OpenAPI 3.1'), '403': err('not from an internal network') } } },
    '/metrics': { get: { summary: 'Prometheus metrics (internal networks, or the admin token)', security: [], responses: { '200': ok('text exposition format'), '403': err('not from an internal network') } } },
    '/health': { get: { summary: 'Liveness and dependencies', security: [], responses: { '200': ok('healthy'), '503': ok('unhealthy') } } },
  };
}

/**
 * The OpenAPI 3.1 document of the gateway, generated from the same zod schemas that
 * validate requests. `admin: false` leaves out the operator's API (a gateway without it).
 * A new group of routes adds its section (an OpenApiPaths, see admin-openapi.ts) here.
 */
export function openApiDocument(options: { admin?: boolean; reconcile?: boolean } = {}): Record<string, unknown> {
  const sections = [apiPaths(), tokenOpenApiPaths(), ...(options.admin === false ? [] : [adminOpenApiPaths(), auditOpenApiPaths()]), ...(options.reconcile === false ? [] : [reconcileOpenApiPaths()])];
  return {
    openapi: '3.1.0',
    info: { title: 'ordo shop gateway', version: '0.1.0', description:
        'The reference e-commerce order system (DESIGN.md §3). Amounts are whole cents up to 2^53 − 1. Every response carries X-Request-Id; 429 (with Retry-After) when a rate limit is reached, 503 when a request takes longer than the timeout.',
    },
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
