import { AlertsQuery, CompensateBody, DeadLetterIdParam, DeadLettersQuery, OverviewQuery, StuckQuery } from './admin-routes.js';
import { asAdminOnly, body, common, err, ok, parameters, type OpenApiPaths } from './openapi-parts.js';
import { OrderIdParam } from './schemas.js';

const orderId = parameters(OrderIdParam, 'path');
const notFound = err('no such order');

/** The operator's API (admin-routes.ts) in the OpenAPI document; every operation needs the admin token. */
export function adminOpenApiPaths(): OpenApiPaths {
  return asAdminOnly({
    '/admin/overview': {
      get: { summary: 'Orders per state, throughput, open alerts, waiting dead letters and stuck sagas', parameters: parameters(OverviewQuery, 'query'), responses: { '200': ok('the overview'), ...common } },
    },
    '/admin/machine': { get: { summary: 'The order machine: definition, Mermaid diagram and edges', responses: { '200': ok('the machine'), ...common } } },
    '/admin/dead-letters': { get: { summary: 'Dead-lettered messages', parameters: parameters(DeadLettersQuery, 'query'), responses: { '200': ok('dead letters, newest first'), ...common } } },
    '/admin/dead-letters/{id}/replay': {
      post: {
        summary: 'Deliver a dead letter again',
        parameters: parameters(DeadLetterIdParam, 'path'),
        responses: { '200': ok('replayed'), ...common, '404': err('no such waiting dead letter'), '409': err('it failed again; it stays, attempts + 1') },
      },
    },
    '/admin/alerts': { get: { summary: 'Saga alerts (parked compensations and the like)', parameters: parameters(AlertsQuery, 'query'), responses: { '200': ok('alerts, newest first'), ...common } } },
    '/admin/stuck': { get: { summary: 'Sagas that have not moved for a while', parameters: parameters(StuckQuery, 'query'), responses: { '200': ok('stuck sagas, longest idle first'), ...common } } },
    '/admin/orders/{id}/retry-compensation': {
      post: { summary: 'Retry a parked compensation', parameters: orderId, responses: { '202': ok('retry under way'), ...common, '404': notFound, '409': err('not parked in a state that takes the retry') } },
    },
    '/admin/orders/{id}/attempts': { get: { summary: "The order's failed command sends, oldest first", parameters: orderId, responses: { '200': ok('attempts'), ...common, '404': notFound } } },
    '/admin/orders/{id}/compensate': {
      post: { summary: 'Cancel an order as the operator', parameters: orderId, requestBody: body(CompensateBody), responses: { '202': ok('compensation under way'), ...common, '404': notFound, '409': err('its state does not allow it') } },
    },
  });
}

