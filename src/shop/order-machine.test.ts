import { describe, expect, it } from 'vitest';
import { edges, InvalidEventError, InvalidTransitionError, start, transition, type EventOfMachine, type SnapshotOf } from '../machine/index.js';
import { ORDER_EXTENSIONS, orderMachine, SEED_TRANSITIONS, type OrderContext, type OrderState } from './order-machine.js';

type Ev = EventOfMachine<typeof orderMachine>;
type Snap = SnapshotOf<typeof orderMachine>;

const ctx: OrderContext = { orderId: 'o-1', customerId: 'c-1', items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1500 }], total: 3000 };
const initial = () => start(orderMachine, ctx).snapshot;

/** Drives the machine through events from INITIATED and returns the snapshot. */
function drive(events: readonly Ev[]): Snap {
  return events.reduce((s, e) => transition(orderMachine, s, e).snapshot, initial());
}

const happy: Ev[] = [
  { type: 'OrderCreated' },
  { type: 'InventoryReserved', reservationId: 'r-1' },
  { type: 'PaymentApproved', paymentId: 'p-1' },
  { type: 'PackageShipped', trackingNumber: 't-1' },
  { type: 'DeliveryConfirmed' },
];

/** One event sequence per state that leaves the machine resting in it. */
const reach: Partial<Record<OrderState, Ev[]>> = {
  INITIATED: [],
  INVENTORY_RESERVING: happy.slice(0, 1),
  PAYMENT_PROCESSING: happy.slice(0, 2),
  PREPARING_SHIPMENT: happy.slice(0, 3),
  SHIPPED: happy.slice(0, 4),
  DELIVERED: happy,
  REVERTING_RESERVATION: [...happy.slice(0, 2), { type: 'PaymentRefused', reason: 'declined' }],
  REFUNDING_PAYMENT: [...happy.slice(0, 3), { type: 'ShipmentFailed', reason: 'damaged' }],
  COMPENSATION_FAILED: [...happy.slice(0, 3), { type: 'ShipmentFailed', reason: 'damaged' }, { type: 'RefundFailed', reason: 'provider down' }],
  CANCELED: [...happy.slice(0, 1), { type: 'InventoryInsufficient', reason: 'SKU-1 out of stock' }],
};

describe('the order machine follows the seed', () => {
  it('contains every transition of the seed table as an edge', () => {
    const have = new Set(edges(orderMachine).map((e) => `${e.from}->${e.to}`));
    for (const [from, tos] of Object.entries(SEED_TRANSITIONS)) for (const to of tos) expect(have, `${from} -> ${to}`).toContain(`${from}->${to}`);
  });

  it('adds exactly the documented extension edges and nothing else', () => {
    const seed = new Set(Object.entries(SEED_TRANSITIONS).flatMap(([f, ts]) => ts.map((t) => `${f}->${t}`)));
    const added = new Set(edges(orderMachine).map((e) => `${e.from}->${e.to}`).filter((k) => !seed.has(k)));
    expect([...added].sort()).toEqual(ORDER_EXTENSIONS.map((x) => `${x.from}->${x.to}`).sort());
  });

  it('has the ten seed states plus the documented failure states', () => {
    expect(orderMachine.stateNames).toEqual(expect.arrayContaining(Object.keys(SEED_TRANSITIONS)));
    expect(orderMachine.stateNames.filter((s) => !(s in SEED_TRANSITIONS)).sort()).toEqual(['COMPENSATION_FAILED', 'REFUNDING_PAYMENT']);
    for (const s of orderMachine.stateNames) expect(orderMachine.states[s].description, s).toBeTruthy();
  });

  it('walks the happy path through every seed state in order', () => {
    let s = initial();
    const visited: string[] = [s.state];
    for (const e of happy) {
      const r = transition(orderMachine, s, e);
      visited.push(...r.path.map((p) => p.to));
      s = r.snapshot;
    }
    expect(visited).toEqual(['INITIATED', 'INVENTORY_RESERVING', 'INVENTORY_RESERVED', 'PAYMENT_PROCESSING', 'PAYMENT_APPROVED', 'PREPARING_SHIPMENT', 'SHIPPED', 'DELIVERED']);
    expect(s.context).toMatchObject({ reservationId: 'r-1', paymentId: 'p-1', trackingNumber: 't-1' });
  });

  const seedCases: [OrderState, Ev, OrderState][] = [
    ['INITIATED', { type: 'OrderCreated' }, 'INVENTORY_RESERVING'],
    ['INVENTORY_RESERVING', { type: 'InventoryReserved', reservationId: 'r' }, 'INVENTORY_RESERVED'],
    ['INVENTORY_RESERVING', { type: 'InventoryInsufficient', reason: 'none left' }, 'CANCELED'],
    ['PAYMENT_PROCESSING', { type: 'PaymentApproved', paymentId: 'p' }, 'PAYMENT_APPROVED'],
    ['PAYMENT_PROCESSING', { type: 'PaymentRefused', reason: 'declined' }, 'REVERTING_RESERVATION'],
    ['PREPARING_SHIPMENT', { type: 'PackageShipped', trackingNumber: 't' }, 'SHIPPED'],
    ['SHIPPED', { type: 'DeliveryConfirmed' }, 'DELIVERED'],
    ['REVERTING_RESERVATION', { type: 'ReservationReleased' }, 'CANCELED'],
  ];
  it.each(seedCases)('%s --%o--> %s', (from, event, to) => {
    const s = drive(reach[from] ?? []);
    expect(s.state).toBe(from);
    const r = transition(orderMachine, s, event);
    expect(r.path[0]).toEqual({ from, to, event: event.type });
  });

  it('takes the seed transitions out of the two transient states automatically', () => {
    const r1 = transition(orderMachine, drive(reach.INVENTORY_RESERVING ?? []), { type: 'InventoryReserved', reservationId: 'r' });
    expect(r1.path.map((p) => `${p.from}->${p.to}`)).toEqual(['INVENTORY_RESERVING->INVENTORY_RESERVED', 'INVENTORY_RESERVED->PAYMENT_PROCESSING']);
    const r2 = transition(orderMachine, drive(reach.PAYMENT_PROCESSING ?? []), { type: 'PaymentApproved', paymentId: 'p' });
    expect(r2.path.map((p) => `${p.from}->${p.to}`)).toEqual(['PAYMENT_PROCESSING->PAYMENT_APPROVED', 'PAYMENT_APPROVED->PREPARING_SHIPMENT']);
  });
});

describe('invalid transitions are rejected and change nothing', () => {
  // For every state: an event it does not accept (DeliveryConfirmed everywhere but SHIPPED).
  const states = Object.keys(reach) as OrderState[];
  it.each(states)('in %s', (state) => {
    const s = drive(reach[state] ?? []);
    const before = JSON.stringify(s);
    const event: Ev = state === 'SHIPPED' ? { type: 'OrderCreated' } : { type: 'DeliveryConfirmed' };
    let error: unknown;
    try {
      transition(orderMachine, s, event);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTransitionError);
    expect(error).toMatchObject({ code: 'INVALID_TRANSITION', state, event: event.type, retryable: false });
    expect(JSON.stringify(s)).toBe(before);
  });

  it('covers the transient states too', () => {
    const transient: Snap = { ...drive(reach.PAYMENT_PROCESSING ?? []), state: 'INVENTORY_RESERVED' };
    expect(() => transition(orderMachine, transient, { type: 'PaymentApproved', paymentId: 'p' })).toThrow(InvalidTransitionError);
    const approved: Snap = { ...transient, state: 'PAYMENT_APPROVED' };
    expect(() => transition(orderMachine, approved, { type: 'OrderCreated' })).toThrow(InvalidTransitionError);
  });

  it('rejects a wrong payload with InvalidEventError, naming the field', () => {
    const s = drive(reach.INVENTORY_RESERVING ?? []);
    const bad = { type: 'InventoryReserved', reservationId: 42 } as unknown as Ev;
    expect(() => transition(orderMachine, s, bad)).toThrow(InvalidEventError);
    expect(() => transition(orderMachine, s, bad)).toThrow(/reservationId/);
  });

  it('ignores late replies where the definition says so, without changing anything', () => {
    const s = drive(reach.REVERTING_RESERVATION ?? []);
    const r = transition(orderMachine, s, { type: 'InventoryReserved', reservationId: 'late' });
    expect(r.changed).toBe(false);
    expect(r.snapshot).toEqual(s);
    expect(r.effects).toEqual([]);
  });
});

describe('effects are data', () => {
  it('sends the step action on entry and publishes the order events', () => {
    const r = transition(orderMachine, initial(), { type: 'OrderCreated' });
    expect(r.effects).toEqual([
      { kind: 'publish', message: 'OrderCreated', payload: { orderId: 'o-1', customerId: 'c-1', items: ctx.items, total: 3000 } },
      { kind: 'send', to: 'inventory', message: 'ReserveInventory', payload: { orderId: 'o-1', items: ctx.items }, step: 'reserveInventory' },
      { kind: 'timer.set', timer: 'INVENTORY_RESERVING/reservationTimeout#1', delay: 'reservationTimeout', delayMs: 30_000 },
    ]);
  });

  it('cancels the timers of the state it leaves', () => {
    const r = transition(orderMachine, drive(reach.INVENTORY_RESERVING ?? []), { type: 'InventoryReserved', reservationId: 'r' });
    expect(r.effects).toContainEqual({ kind: 'timer.cancel', timer: 'INVENTORY_RESERVING/reservationTimeout#1' });
    expect(r.snapshot.timers).toEqual(['PAYMENT_PROCESSING/paymentTimeout#3']);
  });

  it('fires an armed timer and ignores a stale one', () => {
    const s = drive(reach.PAYMENT_PROCESSING ?? []);
    const fired = transition(orderMachine, s, { type: 'ordo.timer', timer: s.timers[0] ?? '' });
    expect(fired.snapshot.state).toBe('REFUNDING_PAYMENT');
    expect(fired.snapshot.context.failureReason).toMatch(/timed out/);
    const stale = transition(orderMachine, s, { type: 'ordo.timer', timer: 'INVENTORY_RESERVING/reservationTimeout#1' });
    expect(stale.changed).toBe(false);
  });

  it('is deterministic and never mutates its input', () => {
    const s = drive(reach.PAYMENT_PROCESSING ?? []);
    const frozen = JSON.stringify(s);
    const a = transition(orderMachine, s, { type: 'PaymentApproved', paymentId: 'p' }, { checkDeterminism: true });
    const b = transition(orderMachine, s, { type: 'PaymentApproved', paymentId: 'p' });
    expect(a).toEqual(b);
    expect(JSON.stringify(s)).toBe(frozen);
  });

  it('round-trips snapshots through JSON', () => {
    const s = drive(reach.PREPARING_SHIPMENT ?? []);
    const copy = JSON.parse(JSON.stringify(s)) as Snap;
    expect(transition(orderMachine, copy, { type: 'PackageShipped', trackingNumber: 't' })).toEqual(transition(orderMachine, s, { type: 'PackageShipped', trackingNumber: 't' }));
  });
});

describe('compensation', () => {
  it('after a failed shipment, refunds before releasing, then cancels', () => {
    let s = drive(reach.REFUNDING_PAYMENT ?? []);
    expect(s.steps.map((x) => x.name)).toEqual(['reserveInventory', 'processPayment']);
    const refund = transition(orderMachine, s, { type: 'PaymentRefunded' });
    expect(refund.snapshot.state).toBe('REVERTING_RESERVATION');
    expect(refund.effects.filter((e) => e.kind === 'send')).toEqual([
      { kind: 'send', to: 'inventory', message: 'ReleaseInventory', payload: { orderId: 'o-1', reservationId: 'r-1' }, step: 'reserveInventory', compensation: true },
    ]);
    s = transition(orderMachine, refund.snapshot, { type: 'ReservationReleased' }).snapshot;
    expect(s.state).toBe('CANCELED');
    expect(s.steps).toEqual([]);
  });

  it('a refused payment needs no refund, only the release', () => {
    const s = drive(reach.REVERTING_RESERVATION ?? []);
    expect(s.steps).toEqual([{ name: 'reserveInventory', status: 'done' }]);
  });

  it('parks a failing compensation and resumes it in order on retry', () => {
    const parked = drive(reach.COMPENSATION_FAILED ?? []);
    expect(parked.context.failureReason).toBe('ShipmentFailed: damaged');
    const retry1 = transition(orderMachine, parked, { type: 'CompensationRetried' }).snapshot;
    expect(retry1.state).toBe('REFUNDING_PAYMENT');
    const released = transition(orderMachine, transition(orderMachine, retry1, { type: 'PaymentRefunded' }).snapshot, { type: 'ReleaseFailed', reason: 'db down' }).snapshot;
    expect(released.state).toBe('COMPENSATION_FAILED');
    expect(transition(orderMachine, released, { type: 'CompensationRetried' }).snapshot.state).toBe('REVERTING_RESERVATION');
  });
});
