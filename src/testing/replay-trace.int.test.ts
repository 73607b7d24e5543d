import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrateStore } from '../store/index.js';
import { runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from '../runtime/index.js';
import { orderMachine, SEED_TRANSITIONS } from '../shop/index.js';
import { shipsBeforePayment } from '../shop/system/choreography-mutants.js';
import { shopSystem, allowedOrderTransitions, type ShopSystemOptions } from '../shop/system/order-system.js';
import { checkSystem, faultsOf, SystemModel, viewOf, type SystemDefinition, type TraceStep } from '../verify/index.js';
import { pgliteFactory, replayTrace, shortestTrace as shortest, TraceStepNotReplayableError, type ReplayReport, type ReplayTraceOptions } from './index.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
const allowed = allowedOrderTransitions();
interface Model extends Omit<ShopSystemOptions, 'machine'> {
  readonly machine?: unknown;
  readonly faults?: Record<string, number>;
}
const model = (o: Partial<Model>): Model => ({ context, orders: 1, ...o });
const defOf = (m: Model): SystemDefinition => shopSystem({ ...m, machine: m.machine as ShopSystemOptions['machine'] });
/** A trace as the CLI writes it: plain JSON. */
const asJson = (t: readonly TraceStep[]): TraceStep[] => JSON.parse(JSON.stringify(t)) as TraceStep[];
const LIVENESS = ['EventuallyTerminates', 'CompensationWorks', 'InventoryConsistency'];
const violation = (m: Model, property: string): TraceStep[] => {
  const v = checkSystem(defOf(m), { keys: m.orders, ...(m.faults ? { faults: m.faults } : {}) }, { liveness: LIVENESS.includes(property) }).violations.find((x) => x.property === property);
  if (!v) throw new Error(`no ${property} violation`);
  return asJson(v.trace);
};
const lines = (t: readonly TraceStep[]) => t.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);

// The seed's compensation removed: a refused payment cancels at once, without releasing the stock (as in src/shop/system).
const pp = orderMachine.states.PAYMENT_PROCESSING;
const skipsRelease = {
  ...orderMachine,
  states: { ...orderMachine.states, PAYMENT_PROCESSING: { ...pp, on: { ...pp.on, PaymentRefused: (pp.on['PaymentRefused'] ?? []).map((t) => ({ ...t, target: 'CANCELED' })) } } },
} as typeof orderMachine;

const shortestTrace = (mo: Model, goal: (m: SystemModel, s: Uint8Array) => boolean): TraceStep[] => {
  const m = new SystemModel(defOf(mo), { keys: mo.orders, ...(mo.faults ? { faults: mo.faults } : {}) });
  return shortest(m, (s) => goal(m, s));
};
/** Every key finished, nothing in flight, and the fault's whole budget spent. */
const endsAfter = (fault: string) => (m: SystemModel, s: Uint8Array) =>
  s[m.budgetAt[fault] ?? 0] === 0 && Array.from({ length: m.options.keys }, (_, i) => i).every((i) => m.table.final[s[m.base(i)] ?? 0] === 1 && m.quiet(s, i));
const stateOf = (m: SystemModel, s: Uint8Array, i: number) => viewOf(m, s).keys[i]?.state;

describe('replayTrace: checker traces against the real saga engine on PGlite', () => {
  let factory: Awaited<ReturnType<typeof pgliteFactory>>;
  beforeAll(async () => {
    factory = await pgliteFactory(async (db) => {
      await migrateStore(db);
      await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    });
  });
  afterAll(() => factory.close());
  // Each replay on a database of its own, closed once replayed (a PGlite holds ~200 MB).
  const replay = async (trace: readonly TraceStep[], options: Partial<ReplayTraceOptions> = {}): Promise<ReplayReport> => {
    const fresh = await factory.fresh();
    try {
      return await replayTrace(trace, { definition: defOf(model({ orders: trace[0]?.keys.length ?? 1 })), db: fresh.db, ...options });
    } finally {
      await fresh.close();
    }
  };

  it('replays the shortest path to DELIVERED and to CANCELED (2 orders) with no divergence', async () => {
    // Forbidding the last edge makes ValidStateTransitions fail on it: the counterexample is the shortest path there.
    const toDelivered = violation(model({ orders: 2, allowedTransitions: { ...allowed, SHIPPED: [] } }), 'ValidStateTransitions');
    expect(toDelivered.at(-1)?.states).toEqual(['DELIVERED', 'INITIATED']);
    const r = await replay(toDelivered);
    expect(r.divergences).toEqual([]);
    expect(r.steps).toBe(toDelivered.length);
    expect(r.final.keys.map((o) => o.state)).toEqual(['DELIVERED', 'INITIATED']);
    expect(r.commands.map((c) => `${c.sagaId} ${c.type}`)).toEqual(['replay-1 ReserveInventory', 'replay-1 ProcessPayment', 'replay-1 PrepareShipment']);

    const toCanceled = violation(model({ orders: 2, stock: 1, allowedTransitions: { ...allowed, INVENTORY_RESERVING: ['INVENTORY_RESERVED'] } }), 'ValidStateTransitions');
    expect(toCanceled.at(-1)?.states).toContain('CANCELED');
    expect((await replay(toCanceled)).divergences).toEqual([]);
  });

  it('replays fault traces — early timeout, duplicate, loss, crash, decline, silent provider, failed shipment, cancel — with no divergence', async () => {
    // The checker's own counterexample with the timeout fault: the reservation times out while ReserveInventory is in flight.
    const early = violation(model({ faults: { timeout: 1 }, allowedTransitions: SEED_TRANSITIONS }), 'ValidStateTransitions');
    expect(lines(early)).toEqual(['orders 1 send OrderCreated', 'timer 1 fire reservationTimeout']);
    expect((await replay(early)).divergences).toEqual([]);

    const faults = ['dup', 'loss', 'crash', 'enginecrash', 'relaycrash', 'timeout', 'decline', 'provider', 'shipfail', 'cancel', 'refundfail'];
    for (const fault of faults) {
      // A refund fails only when there is one to make: a customer's cancel after the capture.
      const trace = shortestTrace(model({ faults: fault === 'refundfail' ? { refundfail: 1, cancel: 1 } : { [fault]: 1 } }), endsAfter(fault));
      const r = await replay(trace);
      expect(r.divergences, `${fault}:\n${lines(trace).join('\n')}`).toEqual([]);
      expect(r.steps).toBe(trace.length);
    }
    expect(faultsOf(defOf(model({}))).filter((f) => !faults.includes(f))).toEqual(['reorder']);
    // Reorder needs two messages in one queue: a duplicate and a reorder, with two orders sharing one unit.
    const both = shortestTrace(model({ orders: 2, stock: 1, faults: { dup: 1, reorder: 1, timeout: 1 } }), (m, s) => endsAfter('reorder')(m, s) && endsAfter('timeout')(m, s));
    expect(lines(both).some((l) => l.includes('reorder'))).toBe(true);
    expect((await replay(both)).divergences).toEqual([]);

    // Two orders with the same deadline: only the one the trace names may pass.
    const oneTimesOut = shortestTrace(model({ orders: 2, stock: 2, faults: { timeout: 1 } }), (m, s) => viewOf(m, s).keys.map((o) => o.state).join() === 'INVENTORY_RESERVING,REVERTING_RESERVATION');
    expect(lines(oneTimesOut)).toEqual(['orders 1 send OrderCreated', 'orders 2 send OrderCreated', 'timer 2 fire reservationTimeout']);
    const r = await replay(oneTimesOut);
    expect(r.divergences).toEqual([]);
    expect(r.final.keys.map((o) => o.state)).toEqual(['INVENTORY_RESERVING', 'REVERTING_RESERVATION']);
  });

  it('a duplicate in the trace is a duplicate for the engine (same message id, answered `duplicate`)', async () => {
    const dupReply = shortestTrace(model({ faults: { dup: 1 } }), (m, s) => endsAfter('dup')(m, s) && stateOf(m, s, 0) === 'DELIVERED');
    const r = await replay(dupReply);
    expect(r.divergences).toEqual([]);
    // Whatever the duplicate was (a command handled twice or a reply delivered twice), the engine saw its repeat as one.
    expect(r.results.flatMap((x) => x.results)).toContain('duplicate');
  });

  it('a counterexample on a broken machine reproduces on the engine running it, and diverges on the fixed one', async () => {
    const bug = violation(model({ machine: skipsRelease, faults: { decline: 1 } }), 'InventoryConsistency');
    expect(lines(bug)).toEqual(['orders 1 send OrderCreated', 'inventory 1 handle ReserveInventory', 'orders 1 handle InventoryReserved', 'payment 1 decline ProcessPayment', 'orders 1 handle PaymentRefused']);

    // Regression test: the bug reproduces — CANCELED while still holding the unit, and no release was ever sent.
    const broken = await replay(bug, { machine: skipsRelease });
    expect(broken.divergences).toEqual([]);
    expect(broken.final.keys[0]).toMatchObject({ state: 'CANCELED', participants: { inventory: { status: 'reserved' } } });
    expect(broken.final.shared).toEqual({ inventory: { A: { available: 0, reserved: 1, shipped: 0 } } });
    expect(broken.commands.map((c) => c.type)).not.toContain('ReleaseInventory');

    // The shipped machine compensates: the replay departs from the counterexample at its last step.
    const fixed = await replay(bug, { machine: orderMachine });
    expect(fixed.stoppedAt).toBeUndefined();
    expect(fixed.divergences.map((d) => d.step)).toEqual([5]);
    expect(fixed.divergences[0]?.differences).toEqual(['order 1 state: expected CANCELED, actual REVERTING_RESERVATION', 'order 1 in flight: expected [], actual [ReleaseInventory]']);
  });

  it('replays choreography traces: the services answer the events the real engine published, routed by their subscriptions', async () => {
    const choreo = (m: Model) => defOf({ ...m, mode: 'choreography' });
    const toDelivered = violation({ ...model({ allowedTransitions: { ...allowed, SHIPPED: [] } }), mode: 'choreography' }, 'ValidStateTransitions');
    const r = await replay(toDelivered, { definition: choreo(model({})) });
    expect(r.divergences).toEqual([]);
    // What reached the services are the order's published events, handled as their commands.
    expect(r.commands.map((c) => c.type)).toEqual(['ReserveInventory', 'ProcessPayment', 'PrepareShipment']);
    for (const fault of ['dup', 'crash', 'enginecrash', 'relaycrash', 'timeout', 'decline', 'cancel', 'shipfail']) {
      const m = model({ faults: { [fault]: 1 }, mode: 'choreography' });
      const m2 = new SystemModel(choreo(m), { keys: 1, faults: { [fault]: 1 } });
      const trace = shortest(m2, (s) => endsAfter(fault)(m2, s));
      expect((await replay(trace, { definition: choreo(m) })).divergences, `${fault}:\n${lines(trace).join('\n')}`).toEqual([]);
    }

    // A bug only choreography has: the shipment is requested with the payment. Its shortest trace reproduces on the engine running it.
    const bug = violation(model({ machine: shipsBeforePayment, mode: 'choreography' }), 'NoUnpaidShipment');
    const broken = await replay(bug, { definition: choreo(model({ machine: shipsBeforePayment })), machine: shipsBeforePayment });
    expect(broken.divergences).toEqual([]);
    expect(broken.final.keys[0]?.participants).toMatchObject({ shipping: { status: 'shipped' }, payment: null });
    // The shipped machine publishes ShipmentRequested only once paid: the replay departs where the bug shipped.
    const fixed = await replay(bug, { definition: choreo(model({})), machine: orderMachine });
    expect(fixed.divergences.length).toBeGreaterThan(0);

    // relaycrash: a payment decider that is not idempotent captures twice when the relay republishes PaymentRequested.
    const twice = violation(model({ nonIdempotentPayment: true, faults: { relaycrash: 1 }, mode: 'choreography' }), 'AtMostOneCapture');
    expect(lines(twice)).toContain('crash 1 relay publishes twice after: orders handle InventoryReserved');
    const captured = await replay(twice, { definition: choreo(model({ nonIdempotentPayment: true })) });
    expect(captured.divergences).toEqual([]);
    expect(captured.final.keys[0]?.participants['payment']).toMatchObject({ captures: 2 });
  });

  it('stops at a step the engine cannot follow, and rejects a trace without its start', async () => {
    const happy = violation(model({ allowedTransitions: { ...allowed, SHIPPED: [] } }), 'ValidStateTransitions');
    // Tampered: the trace claims the inventory handled a ReleaseInventory the engine never sent.
    const tampered = happy.map((s) => (s.step === 2 ? { ...s, message: 'ReleaseInventory', action: 'handle ReleaseInventory' } : s));
    const r = await replay(tampered);
    expect(r.stoppedAt).toEqual({ step: 2, reason: 'the head of the inventory queue is ReserveInventory, the trace handles ReleaseInventory' });
    expect(r.steps).toBe(2);
    await expect(replay(happy.slice(1))).rejects.toThrow(TraceStepNotReplayableError);
  });
});
