import { describe, expect, it } from 'vitest';
import { checkModel, checkSystem, SystemModel } from '../../verify/index.js';
import { orderMachine } from '../order-machine.js';
import { refundsNothing, reservesTwice, shipsUnpaid } from './order-mutants.js';
import { shopSystem, type ShopSystemOptions } from './order-system.js';

/**
 * Every invariant the shop ships has a mutant — of a participant decider or of the
 * machine — that violates it; the checker finds each with its shortest trace.
 */
const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const run = (o: Partial<ShopSystemOptions>, faults: Record<string, number>) => checkSystem(shopSystem({ context, orders: 1, ...o }), { keys: 1, faults });
const steps = (r: ReturnType<typeof run>, property: string) => r.violations.find((v) => v.property === property)?.trace.slice(1).map((s) => `${s.actor} ${s.action}`);

// The machine before it learned to ignore a second PackageShipped once SHIPPED.
const sh = orderMachine.states.SHIPPED;
const parksLateShipment = { ...orderMachine, states: { ...orderMachine.states, SHIPPED: { ...sh, ignore: [] } } } as unknown as ShopSystemOptions['machine'];

describe('a mutant per shop invariant, caught with its shortest trace', () => {
  it('StockConservation: an inventory decider that reserves again on a duplicate', () => {
    const r = run({ participants: { inventory: reservesTwice }, stock: 2 }, { dup: 1 });
    expect(r.violations.map((v) => v.property)).toEqual(['StockConservation']);
    expect(steps(r, 'StockConservation')).toEqual(['orders send OrderCreated', 'network duplicate ReserveInventory on inventory queue', 'inventory handle ReserveInventory', 'inventory handle ReserveInventory']);
    expect(run({ stock: 2 }, { dup: 1 }).violations).toEqual([]);
  });

  it('AtMostOneCapture: a payment decider that captures again on a duplicate', () => {
    const r = run({ nonIdempotentPayment: true }, { dup: 1 });
    expect(r.violations.map((v) => v.property)).toEqual(['AtMostOneCapture']);
    expect(steps(r, 'AtMostOneCapture')?.slice(-2)).toEqual(['payment handle ProcessPayment', 'payment handle ProcessPayment']);
  });

  it('NoChargeWithoutRefund: a payment decider whose refund leaves the charge captured', () => {
    const r = run({ participants: { payment: refundsNothing } }, { cancel: 1 });
    expect(r.violations.map((v) => v.property)).toEqual(['NoChargeWithoutRefund']);
    const trace = steps(r, 'NoChargeWithoutRefund') ?? [];
    expect(trace).toContain('customer send CancelRequested');
    expect(trace.at(-1)).toBe('orders handle ReservationReleased');
    expect(run({}, { cancel: 1 }).violations).toEqual([]);
  });

  it('NoUnpaidShipment (and CompensationWorks): a machine that ships a refused payment', () => {
    const r = run({ machine: shipsUnpaid }, { decline: 1 });
    expect(r.violations.map((v) => v.property).sort()).toEqual(['CompensationWorks', 'NoUnpaidShipment']);
    expect(steps(r, 'NoUnpaidShipment')).toEqual([
      'orders send OrderCreated',
      'inventory handle ReserveInventory',
      'orders handle InventoryReserved',
      'payment decline ProcessPayment',
      'orders handle PaymentRefused',
      'shipping handle PrepareShipment',
    ]);
  });

  it('NoStrandedMessages (built in): a machine that parks a second PackageShipped in SHIPPED, so it is stranded once DELIVERED', () => {
    const r = run({ machine: parksLateShipment }, { dup: 1 });
    expect(r.violations.map((v) => v.property)).toEqual(['NoStrandedMessages']);
    expect(steps(r, 'NoStrandedMessages')?.slice(-4)).toEqual(['network duplicate PackageShipped on replies queue', 'orders handle PackageShipped', 'orders handle PackageShipped', 'carrier send DeliveryConfirmed']);
    const end = r.violations[0]?.trace.at(-1)?.keys[0];
    expect([end?.state, end?.parked, end?.inFlight]).toEqual(['DELIVERED', ['PackageShipped'], []]);
    expect(run({}, { dup: 1 }).violations).toEqual([]);
  });

  it('parking: a reply that arrives before its state is parked and taken once the state changes (nothing stranded)', () => {
    // Under timeouts, duplicates and a cancel, some replies arrive before the state that takes them: parked, then retried.
    const m = new SystemModel(shopSystem({ context, orders: 1 }), { keys: 1, faults: { timeout: 1, dup: 1, cancel: 1 } });
    const r = checkModel(m);
    expect(m.parkedSeen).toBe(true);
    expect(m.parking.retried.size).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
    expect(r.properties.find((p) => p.name === 'NoStrandedMessages')?.status).toBe('holds');
  });
});
