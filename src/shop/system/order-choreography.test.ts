import { describe, expect, it } from 'vitest';
import { checkSystem, ModelOptionsError, SystemModel, type SystemCheckResult, type SystemDefinition } from '../../verify/index.js';
import { orderMachine } from '../order-machine.js';
import { shipsBeforePayment } from './choreography-mutants.js';
import { orderChoreographySystem, shopSystem } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const check = (def: SystemDefinition, keys: number, faults: Record<string, number> = {}) => checkSystem(def, { keys, faults });
const steps = (r: SystemCheckResult, property: string) => r.violations.find((v) => v.property === property)?.trace.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);

describe('the shop in choreography: the services react to the order machine’s published events', () => {
  it('routes the machine’s publish effects by the subscriptions, not its sends', () => {
    const m = new SystemModel(orderChoreographySystem({ orders: 1, context }), { keys: 1 });
    expect(m.definition.wiring.mode).toBe('choreography');
    expect(m.participants.map((p) => [p.participant.name, p.commands])).toEqual([
      ['inventory', ['ReserveInventory', 'ReleaseInventory', 'PackageShipped']],
      ['payment', ['ProcessPayment', 'RefundPayment']],
      ['shipping', ['PrepareShipment']],
    ]);
    // The command a service handles carries the published event's payload, parsed as the service parses it.
    expect(m.participants[1]?.payloads[0]).toEqual({ orderId: 'o', customerId: 'c', amount: 100 });
    // A machine that publishes nothing reaches nobody in choreography (its commands stay in the log).
    const silent = { ...orderMachine, states: Object.fromEntries(Object.entries(orderMachine.states).map(([n, s]) => [n, { ...s, entry: s.entry.filter((e) => e.kind !== 'publish') }])) };
    const r = check(orderChoreographySystem({ orders: 1, context, machine: silent }), 1);
    // OrderCreated (a transition's effect, kept) still reserves; nobody is ever asked to pay, the payment times out, the refund too.
    expect(r.violations.map((v) => v.property)).toEqual(['EventuallyTerminates']);
    expect(r.violations[0]?.trace.map((s) => s.states[0])).toContain('COMPENSATION_FAILED');
    expect(r.violations[0]?.trace.flatMap((s) => s.keys[0]?.inFlight ?? [])).not.toContain('ProcessPayment');
  });

  it('has the same states as orchestration for the shipped machine (it publishes, on entry, what it sends), and every invariant holds', () => {
    const cases: [number, Record<string, number>][] = [
      [1, {}],
      [2, {}],
      [3, {}],
      [2, { dup: 1, decline: 1, cancel: 1, timeout: 1 }],
      [2, { crash: 1, enginecrash: 1, loss: 1, reorder: 1, provider: 1, shipfail: 1, refundfail: 1 }],
    ];
    for (const [n, faults] of cases) {
      const choreo = check(orderChoreographySystem({ orders: n, context }), n, faults);
      expect(choreo.violations, JSON.stringify(faults)).toEqual([]);
      const orch = check(shopSystem({ orders: n, context }), n, faults);
      expect([choreo.states, choreo.transitions]).toEqual([orch.states, orch.transitions]);
    }
  }, 60_000);

  it('catches a machine that publishes the shipment request too early — only in choreography', () => {
    const r = check(orderChoreographySystem({ orders: 1, context, machine: shipsBeforePayment }), 1);
    expect(r.violations.map((v) => v.property)).toEqual(['NoUnpaidShipment']);
    expect(steps(r, 'NoUnpaidShipment')).toEqual(['orders 1 send OrderCreated', 'inventory 1 handle ReserveInventory', 'orders 1 handle InventoryReserved', 'shipping 1 handle PrepareShipment']);
    expect(check(shopSystem({ orders: 1, context, machine: shipsBeforePayment }), 1).violations).toEqual([]);
  });

  it('rejects subscriptions to an unknown participant or to an event the machine never publishes', () => {
    const base = orderChoreographySystem({ orders: 1, context });
    const withSubs = (subscriptions: Record<string, Record<string, { command: string; payload?: (p: unknown) => unknown }>>): SystemDefinition => ({ ...base, wiring: { mode: 'choreography', subscriptions } });
    expect(() => new SystemModel(withSubs({ warehouse: { OrderCreated: { command: 'ReserveInventory' } } }), { keys: 1 })).toThrow(ModelOptionsError);
    expect(() => new SystemModel(withSubs({ inventory: { OrderShipped: { command: 'ReserveInventory' } } }), { keys: 1 })).toThrow(/never publishes/);
    expect(() => new SystemModel({ ...base, wiring: { mode: 'choreography' } as unknown as SystemDefinition['wiring'] }, { keys: 1 })).toThrow(/choreography needs subscriptions/);
    // A payload the service's schema refuses is the definition's error, named, not a crash inside the checker.
    const refuses = { command: 'ReserveInventory', payload: () => { throw new Error('items: required'); } };
    expect(() => new SystemModel(withSubs({ inventory: { OrderCreated: refuses } }), { keys: 1 })).toThrow('inventory cannot take OrderCreated as ReserveInventory: items: required');
  });
});
