import { commands, serviceEvents, topics } from '../contracts.js';
import type { ServiceDefinition, ServiceHandler } from '../service-host.js';
import { chance, type SimulationOptions } from '../simulation.js';
import { markShipped, releaseInventory, reserveInventory, inventoryMigrations } from './inventory-service.js';
import { providerMigrations, SimulatedPaymentProvider, type CaptureOutcome, type RefundOutcome } from './payment-provider.js';
import { paymentMigrations, recordCapture, recordRefund } from './payment-service.js';
import { confirmDelivery, prepareShipment, shippingMigrations } from './shipping-service.js';
import type { Db } from '../../store/index.js';

export type WiringMode = 'orchestration' | 'choreography';

/**
 * The two wirings of the same handlers: in orchestration a service obeys commands on
 * `<service>-commands`; in choreography it reacts to the order's published events
 * (the seed's sequence diagram). Either way it reports on `<service>-events`.
 */
function wire<H>(mode: WiringMode, service: 'inventory' | 'payment' | 'shipping', byCommand: Record<string, H>, byOrderEvent: Record<string, H>): Record<string, Record<string, H>> {
  return mode === 'orchestration' ? { [topics.commands(service)]: byCommand } : { [topics.orderEvents]: byOrderEvent };
}

const h = <P, X>(handler: ServiceHandler<P, X>) => handler as unknown as ServiceHandler<never, unknown>;

export function inventoryService(mode: WiringMode): ServiceDefinition {
  const reserve = h({ schema: commands.ReserveInventory, apply: (tx, p) => reserveInventory(tx, p.orderId, p.items) });
  const release = h({ schema: commands.ReleaseInventory, apply: (tx, p) => releaseInventory(tx, p.orderId) });
  return {
    name: 'inventory',
    migrations: inventoryMigrations,
    eventsTopic: topics.events('inventory'),
    subscriptions: {
      ...wire(mode, 'inventory', { ReserveInventory: reserve, ReleaseInventory: release }, { OrderCreated: reserve, ReservationReleaseRequested: release }),
      // Stock leaves the warehouse when the carrier has it, in both wirings.
      [topics.events('shipping')]: { PackageShipped: h({ schema: serviceEvents.PackageShipped, apply: (tx, p) => markShipped(tx, p.orderId) }) },
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
  return {
    name: 'payment',
    migrations: [...paymentMigrations, ...providerMigrations],
    eventsTopic: topics.events('payment'),
    subscriptions: wire(mode, 'payment', { ProcessPayment: pay, RefundPayment: refund }, { PaymentRequested: pay, RefundRequested: refund }),
  };
}

export function shippingService(mode: WiringMode, sim: SimulationOptions): ServiceDefinition {
  const prepare = h({
    schema: commands.PrepareShipment,
    apply: (tx, p) => prepareShipment(tx, p.orderId, p.items, chance(sim.shipmentFailureRate, sim.seed, 'ship-fails', p.orderId)),
  });
  // The carrier's confirmation arrives as a command in both wirings (from the gateway).
  const confirm = h({ schema: commands.ConfirmDelivery, apply: (tx, p) => confirmDelivery(tx, p.orderId) });
  const wired = wire(mode, 'shipping', { PrepareShipment: prepare, ConfirmDelivery: confirm }, { ShipmentRequested: prepare });
  const commandTopic = topics.commands('shipping');
  return {
    name: 'shipping',
    migrations: shippingMigrations,
    eventsTopic: topics.events('shipping'),
    subscriptions: { ...wired, [commandTopic]: { ...wired[commandTopic], ConfirmDelivery: confirm } },
  };
}
