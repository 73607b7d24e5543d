import { describe, expect, it } from 'vitest';
import { checkSystem, ModelOptionsError, SystemModel, type SystemCheckResult } from '../../verify/index.js';
import { orderMachine, ORDER_EXTENSIONS, SEED_TRANSITIONS } from '../order-machine.js';
import { shopSystem, type ShopSystemOptions } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
interface Model extends Omit<ShopSystemOptions, 'machine'> {
  readonly machine?: unknown;
  readonly faults?: Record<string, number>;
  readonly symmetry?: boolean;
}
const model = (o: Partial<Model>): Model => ({ context, orders: 1, ...o });
const checkOrderSystem = (m: Model, check?: Parameters<typeof checkSystem>[2]) =>
  checkSystem(shopSystem({ ...m, machine: m.machine as ShopSystemOptions['machine'] }), { keys: m.orders, ...(m.faults ? { faults: m.faults } : {}), ...(m.symmetry ? { symmetry: true } : {}) }, check);
const status = (r: SystemCheckResult) => Object.fromEntries(r.properties.map((p) => [p.name, p.status]));
const steps = (r: SystemCheckResult, property: string) => r.violations.find((v) => v.property === property)?.trace.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);

// The seed's compensation removed: a refused payment cancels at once, without releasing the stock.
const pp = orderMachine.states.PAYMENT_PROCESSING;
const skipsRelease = {
  ...orderMachine,
  states: { ...orderMachine.states, PAYMENT_PROCESSING: { ...pp, on: { ...pp.on, PaymentRefused: (pp.on['PaymentRefused'] ?? []).map((t) => ({ ...t, target: 'CANCELED' })) } } },
} as typeof orderMachine;

describe('the shop as a system definition (order machine + participant deciders)', () => {
  it('has the state counts SPIN agrees with (see promela-spin.int.test.ts)', () => {
    expect([checkOrderSystem(model({ orders: 1 })).states, checkOrderSystem(model({ orders: 2 })).states]).toEqual([9, 60]);
  });

  it('passes the shipped machine under every fault, each property non-vacuous where a fault reaches it', () => {
    const r = checkOrderSystem(model({ orders: 2, faults: { dup: 1, decline: 1, cancel: 1, timeout: 1 } }));
    expect(r.violations).toEqual([]);
    expect(Object.values(status(r)).every((s) => s === 'holds')).toBe(true);
    for (const faults of [{ crash: 1 }, { enginecrash: 2 }, { loss: 1, reorder: 1 }, { provider: 1 }, { shipfail: 1 }, { timeout: 2 }] as Record<string, number>[]) {
      expect(checkOrderSystem(model({ orders: 2, faults })).violations.map((v) => v.property), JSON.stringify(faults)).toEqual([]);
    }
  });

  it("holds ordo's own edges between seed states to the seed's table (strict table: the documented extensions show up)", () => {
    const strict = checkOrderSystem(model({ faults: { timeout: 1 }, allowedTransitions: SEED_TRANSITIONS }));
    const trace = strict.violations.find((v) => v.property === 'ValidStateTransitions')?.trace ?? [];
    expect(trace.slice(-2).map((s) => s.states[0])).toEqual(['INVENTORY_RESERVING', 'REVERTING_RESERVATION']);
    expect(ORDER_EXTENSIONS.some((e) => e.from === 'INVENTORY_RESERVING' && e.to === 'REVERTING_RESERVATION')).toBe(true);
    expect(checkOrderSystem(model({ faults: { timeout: 1 } })).violations).toEqual([]);
  });

  it('reports a property whose premise is never reached as vacuous', () => {
    const s = status(checkOrderSystem(model({ orders: 1 })));
    expect(s['CompensationWorks']).toBe('vacuous'); // nobody ever refuses a payment without the decline fault
    expect(s['EventuallyTerminates']).toBe('holds');
  });

  it('catches a payment service that is not idempotent, with the shortest double capture', () => {
    const r = checkOrderSystem(model({ faults: { dup: 1 }, nonIdempotentPayment: true }));
    expect(r.violations.map((v) => v.property)).toEqual(['AtMostOneCapture']);
    expect(steps(r, 'AtMostOneCapture')).toEqual([
      'orders 1 send OrderCreated',
      'inventory 1 handle ReserveInventory',
      'orders 1 handle InventoryReserved',
      'network 1 duplicate ProcessPayment on payment queue',
      'payment 1 handle ProcessPayment',
      'payment 1 handle ProcessPayment',
    ]);
    expect((r.violations[0]?.trace.at(-1)?.keys[0]?.participants['payment'] as { captures: number }).captures).toBe(2);
    // Without duplicates the same broken service is never caught: the fault is what exposes it.
    expect(checkOrderSystem(model({ nonIdempotentPayment: true })).violations).toEqual([]);
  });

  it('catches a removed compensation: the stock of a refused payment is never released', () => {
    const r = checkOrderSystem(model({ machine: skipsRelease, faults: { decline: 1 } }));
    expect(r.violations.map((v) => v.property).sort()).toEqual(['InventoryConsistency', 'ValidStateTransitions']);
    const path = ['orders 1 send OrderCreated', 'inventory 1 handle ReserveInventory', 'orders 1 handle InventoryReserved', 'payment 1 decline ProcessPayment', 'orders 1 handle PaymentRefused'];
    expect(steps(r, 'InventoryConsistency')).toEqual(path);
    expect(steps(r, 'ValidStateTransitions')).toEqual(path);
    const end = r.violations[0]?.trace.at(-1)?.keys[0];
    expect([end?.state, (end?.participants['inventory'] as { status: string }).status]).toEqual(['CANCELED', 'reserved']);
    // The shipped machine passes the same fault run.
    expect(checkOrderSystem(model({ faults: { decline: 1 } })).violations).toEqual([]);
  });

  it('finds a fair cycle (lasso) when a compensation mistakes success for failure', () => {
    // The release's confirmation parks the order as failed without marking the step compensated,
    // so every operator retry releases again, forever.
    const rr = orderMachine.states.REVERTING_RESERVATION;
    const loops = {
      ...orderMachine,
      states: { ...orderMachine.states, REVERTING_RESERVATION: { ...rr, on: { ...rr.on, ReservationReleased: [{ target: 'COMPENSATION_FAILED', assign: [], effects: [] }] } } },
    } as typeof orderMachine;
    const r = checkOrderSystem(model({ machine: loops, faults: { decline: 1 } }));
    const v = r.violations.find((x) => x.property === 'EventuallyTerminates');
    const cycle = v?.trace.filter((s) => s.cycle).map((s) => `${s.actor} ${s.action}`);
    // The same three steps repeat forever (the cycle starts wherever BFS first entered it).
    expect([...(cycle ?? [])].sort()).toEqual(['inventory handle ReleaseInventory', 'operator send CompensationRetried', 'orders handle ReservationReleased']);
    const cycleStates = new Set(v?.trace.filter((s) => s.cycle).map((s) => s.states[0]));
    expect(cycleStates).toEqual(new Set(['COMPENSATION_FAILED', 'REVERTING_RESERVATION']));
    expect(status(r)['CompensationWorks']).toBe('violated');
  });

  it('symmetry reduction keeps every verdict with fewer states, and its traces name real orders', () => {
    const options = model({ machine: skipsRelease, orders: 3, faults: { decline: 1, dup: 1 } });
    const full = checkOrderSystem(options);
    const reduced = checkOrderSystem({ ...options, symmetry: true });
    expect(reduced.states).toBeLessThan(full.states / 3);
    expect(status(reduced)).toEqual(status(full));
    const trace = reduced.violations.find((v) => v.property === 'ValidStateTransitions')?.trace ?? [];
    expect(trace.map((s) => s.states[s.order - 1] ?? 'start')).toEqual(['start', 'INVENTORY_RESERVING', 'INVENTORY_RESERVING', 'PAYMENT_PROCESSING', 'PAYMENT_PROCESSING', 'CANCELED']);
  });

  it('reports progress with depth and queue, and the JSON trace carries actor, action and every order state', () => {
    const seen: number[] = [];
    const r = checkOrderSystem(model({ orders: 2, faults: { dup: 1, decline: 1 } }), { progressEvery: 100, onProgress: (p) => seen.push(p.queue) });
    expect(seen.length).toBeGreaterThan(2);
    const bad = checkOrderSystem(model({ faults: { dup: 1 }, nonIdempotentPayment: true }));
    const step = JSON.parse(JSON.stringify(bad.violations[0]?.trace[4])) as Record<string, unknown>;
    expect(step).toMatchObject({ step: 4, actor: 'network', order: 1, message: 'ProcessPayment', states: ['PAYMENT_PROCESSING'], shared: { inventory: { A: { available: 0, reserved: 1, shipped: 0 } } } });
    expect(r.violations).toEqual([]);
  });

  it('rejects bad options with a typed error', () => {
    expect(() => new SystemModel(shopSystem({ orders: 0 }), { keys: 0 })).toThrow(ModelOptionsError);
    expect(() => new SystemModel(shopSystem({ orders: 1 }), { keys: 1, faults: { meteor: 1 } })).toThrow(/unknown fault "meteor"/);
  });
});
