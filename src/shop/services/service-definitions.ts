import { byOrderEvent, type SubscribedService } from '../choreography-subscriptions.js';
import { commands, serviceEvents, topics } from '../contracts.js';
import type { ServiceDefinition, ServiceHandler } from '../service-host.js';
import { chance, type SimulationOptions } from '../simulation.js';
import { markShipped, putStock, releaseInventory, reserveInventory, inventoryMigrations } from './inventory-service.js';
import { providerMigrations, SimulatedPaymentProvider, type CaptureOutcome, type RefundOutcome } from './payment-provider.js';
import { paymentMigrations, recordCapture, recordFraudCheck, recordRefund } from './payment-service.js';
import { confirmDelivery, prepareShipment, shippingMigrations } from './shipping-service.js';
import { appendStockChanges, stockTouchedBy } from './stock-feed.js';
import type { Db } from '../../store/index.js';

export type WiringMode = 'orchestration' | 'choreography';

/**
 * The two wirings of the same handlers: in orchestration a service obeys commands on
 * `<service>-commands`; in choreography it reacts to the order's published events
 * (the seed's sequence diagram), by ORDER_EVENT_SUBSCRIPTIONS. Either way it reports on `<service>-events`.
 */
function wire<H>(mode: WiringMode, service: SubscribedService, byCommand: Record<string, H>): Record<string, Record<string, H>> {
  return mode === 'orchestration' ? { [topics.commands(service)]: byCommand } : { [topics.orderEvents]: byOrderEvent(service, byCommand) };
}

const h = <P, X>(handler: ServiceHandler<P, X>) => handler as unknown as ServiceHandler<never, unknown>;

/** An inventory handler that also sends the rows it may have changed on the stock feed, in its transaction. */
function withStockFeed<P extends { orderId: string } | { sku: string }>(handler: ServiceHandler<P, unknown>): ServiceHandler<never, unknown> {
  return h<P, unknown>({
    ...handler,
    apply: async (tx, p, x, d) => {
      const events = await handler.apply(tx, p, x, d);
      await appendStockChanges(tx, 'orderId' in p ? `inventory-${p.orderId}` : `stock-${p.sku}`, await stockTouchedBy(tx, p), d.message);
      return events;
    },
  });
}

export function inventoryService(mode: WiringMode): ServiceDefinition {
  const reserve = withStockFeed({ schema: commands.ReserveInventory, apply: (tx, p) => reserveInventory(tx, p.orderId, p.items) });
  const release = withStockFeed({ schema: commands.ReleaseInventory, apply: (tx, p) => releaseInventory(tx, p.orderId) });
  // The operator's stock change, sent by the gateway (PUT /inventory/:sku) in both wirings.
  const setStock = withStockFeed({ schema: commands.SetStock, apply: async (tx, p) => (await putStock(tx, p.sku, p), []) });
  const wired = wire(mode, 'inventory', { ReserveInventory: reserve, ReleaseInventory: release });
  const commandTopic = topics.commands('inventory');
  return {
    name: 'inventory',
    migrations: inventoryMigrations,
    eventsTopic: topics.events('inventory'),
    // Every order locks a few hot stock rows: batches of several orders would lock them in
    // different orders and deadlock each other, and one batch at a time is slower than
    // transactions per message that wait only for the SKUs they share.
    batching: { maxBatch: 1, concurrency: 10 },
    subscriptions: {
      ...wired,
      [commandTopic]: { ...wired[commandTopic], SetStock: setStock },
      // Stock leaves the warehouse when the carrier has it, in both wirings.
      [topics.events('shipping')]: { PackageShipped: withStockFeed({ schema: serviceEvents.PackageShipped, apply: (tx, p) => markShipped(tx, p.orderId) }) },
    },
  };
}

export function paymentService(mode: WiringMode, db: Db, sim: SimulationOptions): ServiceDefinition {
  const provider = new SimulatedPaymentProvider(db, sim);
  const pay = h<{ orderId: string; customerId: string; amount: number }, CaptureOutcome>({
    schema: commands.ProcessPayment,
    external: (p, d) => provider.capture(p.orderId, p.amount, d.attempt),
    apply: (tx, p, outcome) => recordCapture(tx, p, outcome),
  });
  const refund = h<{ orderId: string }, RefundOutcome>({
    schema: commands.RefundPayment,
    external: (p, d) => provider.refund(p.orderId, d.attempt),
    apply: (tx, p, outcome) => recordRefund(tx, p.orderId, outcome),
  });
  // The fraud rule (order machine v2): deterministic per order, like the provider's chances.
  const screen = h({
    schema: commands.CheckFraud,
    apply: (tx, p) => recordFraudCheck(tx, p, chance(sim.fraudRate ?? 0, sim.seed, 'fraud', p.orderId)),
  });
  return {
    name: 'payment',
    migrations: [...paymentMigrations, ...providerMigrations],
    eventsTopic: topics.events('payment'),
    // One charge (and fraud check) per order, no row shared between orders: batches may commit side by side.
    batching: { concurrency: 4 },
    subscriptions: wire(mode, 'payment', { ProcessPayment: pay, RefundPayment: refund, CheckFraud: screen }),
  };
}

export function shippingService(mode: WiringMode, sim: SimulationOptions): ServiceDefinition {
  const prepare = h({
    schema: commands.PrepareShipment,
    apply: (tx, p) => prepareShipment(tx, p.orderId, p.items, chance(sim.shipmentFailureRate, sim.seed, 'ship-fails', p.orderId)),
  });
  // The carrier's confirmation arrives as a command in both wirings (from the gateway).
  const confirm = h({ schema: commands.ConfirmDelivery, apply: (tx, p) => confirmDelivery(tx, p.orderId) });
  const wired = wire(mode, 'shipping', { PrepareShipment: prepare, ConfirmDelivery: confirm });
  const commandTopic = topics.commands('shipping');
  return {
    name: 'shipping',
    migrations: shippingMigrations,
    eventsTopic: topics.events('shipping'),
    batching: { concurrency: 4 },
    subscriptions: { ...wired, [commandTopic]: { ...wired[commandTopic], ConfirmDelivery: confirm } },
  };
}
