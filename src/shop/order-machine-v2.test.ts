import { describe, expect, it } from 'vitest';
import { migrateSnapshot, migrationViolations, MigrationError, start, transition, type AnyEvent, type MachineMigration, type Snapshot } from '../machine/index.js';
import { orderMachine, type OrderContext } from './order-machine.js';
import { orderMachineV2, orderMigrationV1toV2 } from './order-machine-v2.js';

const ctx: OrderContext = { orderId: 'o-1', customerId: 'c-1', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }], total: 1000 };
const driveV1 = (events: readonly AnyEvent[]): Snapshot => events.reduce<Snapshot>((s, e) => transition(orderMachine, s as never, e as never).snapshot, start(orderMachine, ctx).snapshot);

describe('order machine v2 (fraud check)', () => {
  it('screens the order between the reservation and the payment', () => {
    let s: Snapshot = start(orderMachineV2, ctx).snapshot;
    s = transition(orderMachineV2, s as never, { type: 'OrderCreated' }).snapshot;
    const reserved = transition(orderMachineV2, s as never, { type: 'InventoryReserved', reservationId: 'r-1' });
    expect(reserved.snapshot.state).toBe('FRAUD_CHECKING');
    expect(reserved.effects.filter((e) => e.kind === 'send').map((e) => e.kind === 'send' && e.message)).toEqual(['CheckFraud']);
    const cleared = transition(orderMachineV2, reserved.snapshot, { type: 'FraudCleared' });
    expect(cleared.snapshot.state).toBe('PAYMENT_PROCESSING');
    const suspected = transition(orderMachineV2, reserved.snapshot, { type: 'FraudSuspected', reason: 'velocity' });
    expect(suspected.snapshot.state).toBe('REVERTING_RESERVATION');
    expect(suspected.effects.some((e) => e.kind === 'send' && e.message === 'ReleaseInventory')).toBe(true);
  });
});

describe('migration v1 → v2', () => {
  it('is total and keeps every step', () => {
    expect(migrationViolations(orderMigrationV1toV2, orderMachine, orderMachineV2)).toEqual([]);
  });

  it('moves a v1 instance waiting for its payment without sending anything again and keeps its timer', () => {
    const v1 = driveV1([{ type: 'OrderCreated' }, { type: 'InventoryReserved', reservationId: 'r-1' }]);
    expect(v1.state).toBe('PAYMENT_PROCESSING');
    const r = migrateSnapshot(orderMigrationV1toV2, orderMachine, orderMachineV2, v1);
    expect(r.snapshot).toMatchObject({ version: 2, state: 'PAYMENT_PROCESSING', timers: v1.timers, seq: v1.seq, steps: v1.steps });
    expect(r.effects).toEqual([]);
    // and it goes on under v2
    expect(transition(orderMachineV2, r.snapshot, { type: 'PaymentApproved', paymentId: 'p-1' }).snapshot.state).toBe('PREPARING_SHIPMENT');
  });

  it('an instance still reserving is screened under v2 once its reservation arrives', () => {
    const r = migrateSnapshot(orderMigrationV1toV2, orderMachine, orderMachineV2, driveV1([{ type: 'OrderCreated' }]));
    expect(transition(orderMachineV2, r.snapshot, { type: 'InventoryReserved', reservationId: 'r-1' }).snapshot.state).toBe('FRAUD_CHECKING');
  });

  it('`enter` sends the target state’s command and re-arms its timers', () => {
    const m: MachineMigration<OrderContext, OrderContext> = { ...orderMigrationV1toV2, states: { ...orderMigrationV1toV2.states, PAYMENT_PROCESSING: { to: 'FRAUD_CHECKING', pending: 'enter' } } };
    const v1 = driveV1([{ type: 'OrderCreated' }, { type: 'InventoryReserved', reservationId: 'r-1' }]);
    const r = migrateSnapshot(m, orderMachine, orderMachineV2, v1);
    expect(r.snapshot.state).toBe('FRAUD_CHECKING');
    expect(r.effects.map((e) => e.kind + (e.kind === 'send' ? `:${e.message}` : ''))).toEqual(['timer.cancel', 'send:CheckFraud', 'publish', 'timer.set']);
    expect(r.snapshot.seq).toBe(v1.seq + 1);
  });

  it('refuses a mapping that is not total, points nowhere, or makes a final state live again', () => {
    const partial: MachineMigration<OrderContext, OrderContext> = { ...orderMigrationV1toV2, states: { INITIATED: 'INITIATED', CANCELED: 'PAYMENT_PROCESSING', SHIPPED: 'NOWHERE' } };
    const v = migrationViolations(partial, orderMachine, orderMachineV2);
    expect(v).toContain('does not map DELIVERED');
    expect(v).toContain('maps final state CANCELED to PAYMENT_PROCESSING, which is not final');
    expect(v).toContain('maps SHIPPED to NOWHERE, which v2 does not have');
    expect(() => migrateSnapshot(partial, orderMachine, orderMachineV2, driveV1([{ type: 'OrderCreated' }]))).toThrow(MigrationError);
  });
});
