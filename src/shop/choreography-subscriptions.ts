import { commands } from './contracts.js';

type CommandName = keyof typeof commands;

/**
 * Choreography as data: per service, the order events it reacts to (topic
 * `order-events`) and the command it handles for each — the handler it runs in
 * orchestration. The services subscribe by this table (service-definitions.ts) and the
 * shop's choreography system definition routes the order machine's published events by it.
 */
export const ORDER_EVENT_SUBSCRIPTIONS = {
  inventory: { OrderCreated: 'ReserveInventory', ReservationReleaseRequested: 'ReleaseInventory' },
  payment: { PaymentRequested: 'ProcessPayment', RefundRequested: 'RefundPayment', FraudCheckRequested: 'CheckFraud' },
  shipping: { ShipmentRequested: 'PrepareShipment' },
} as const satisfies Record<string, Record<string, CommandName>>;

export type SubscribedService = keyof typeof ORDER_EVENT_SUBSCRIPTIONS;

/** The handlers a service runs on the order's events: its command handlers, by the table. */
export function byOrderEvent<H>(service: SubscribedService, byCommand: Readonly<Record<string, H>>): Record<string, H> {
  const out: Record<string, H> = {};
  for (const [event, command] of Object.entries(ORDER_EVENT_SUBSCRIPTIONS[service])) {
    const handler = byCommand[command];
    if (handler === undefined) throw new Error(`${service} subscribes to ${event} as ${command}, a command it has no handler for`);
    out[event] = handler;
  }
  return out;
}

/** The payload a service's handler sees for an order event: parsed by the command's schema, as the service host does. */
export const commandPayload = (command: CommandName) => (published: unknown): unknown => commands[command].parse(published);
