import { describe, expect, it } from 'vitest';
import { runParticipant, type ParticipantState } from '../../verify/index.js';
import { inventoryDecider, type InventoryLocal, type InventoryShared } from './inventory-decider.js';
import { paymentDecider, paymentDeciderWith } from './payment-decider.js';
import { shippingDecider, ShipmentNotDeliverableError } from './shipping-decider.js';

const items = [{ sku: 'A', quantity: 2 }];
const types = (es: readonly { type: string }[]) => es.map((e) => e.type);

describe('the participants as pure deciders', () => {
  it('inventory: reserves from shared stock, answers a duplicate as before, releases and ships conserving stock', () => {
    let s: ParticipantState<InventoryLocal, InventoryShared> = { local: inventoryDecider.initialLocal(), shared: { A: { available: 3, reserved: 0, shipped: 0 } } };
    const reserve = { type: 'ReserveInventory' as const, payload: { orderId: 'o', items } };
    const r1 = runParticipant(inventoryDecider, reserve, s, undefined);
    expect(types(r1.answers)).toEqual(['InventoryReserved']);
    s = r1.state;
    expect(s.shared['A']).toEqual({ available: 1, reserved: 2, shipped: 0 });
    expect(runParticipant(inventoryDecider, reserve, s, undefined).state).toEqual(s);
    const shipped = runParticipant(inventoryDecider, { type: 'PackageShipped', payload: { orderId: 'o' } }, s, undefined).state;
    expect(shipped.shared['A']).toEqual({ available: 1, reserved: 0, shipped: 2 });
    expect(types(runParticipant(inventoryDecider, { type: 'ReleaseInventory', payload: { orderId: 'o' } }, shipped, undefined).answers)).toEqual(['ReleaseFailed']);
    const other = runParticipant(inventoryDecider, { type: 'ReserveInventory', payload: { orderId: 'p', items } }, { local: undefined, shared: s.shared }, undefined);
    expect(other.answers[0]).toMatchObject({ type: 'InventoryInsufficient', payload: { reason: 'A: 2 wanted, 1 available' } });
  });

  it('inventory: a release that overtakes its reservation leaves a tombstone', () => {
    const t = runParticipant(inventoryDecider, { type: 'ReleaseInventory', payload: { orderId: 'o' } }, { local: undefined, shared: {} }, undefined).state;
    expect(t.local?.status).toBe('released');
    expect(types(runParticipant(inventoryDecider, { type: 'ReserveInventory', payload: { orderId: 'o', items } }, t, undefined).answers)).toEqual(['InventoryInsufficient']);
  });

  it('payment: the world chooses (capture, decline, silence, refund failure); a duplicate never captures twice', () => {
    const pay = { type: 'ProcessPayment' as const, payload: { orderId: 'o', customerId: 'c', amount: 10 } };
    const empty = { local: undefined, shared: null };
    const choices = paymentDecider.choices?.['ProcessPayment'] ?? [];
    expect(choices.map((c) => c.fault)).toEqual([undefined, 'decline', 'provider']);
    const ok = runParticipant(paymentDecider, pay, empty, choices[0]?.value ?? ({ kind: 'no-answer' } as const));
    expect(types(ok.answers)).toEqual(['PaymentApproved']);
    expect(runParticipant(paymentDecider, pay, ok.state, { kind: 'captured', paymentId: 'x' }).state.local?.captures).toBe(1);
    expect(runParticipant(paymentDeciderWith({ idempotent: false }), pay, ok.state, { kind: 'captured', paymentId: 'x' }).state.local?.captures).toBe(2);
    expect(runParticipant(paymentDecider, pay, empty, { kind: 'no-answer' }).answers).toEqual([]);
    const refund = runParticipant(paymentDecider, { type: 'RefundPayment', payload: { orderId: 'o' } }, ok.state, { kind: 'failed', reason: 'no' });
    expect([types(refund.answers), refund.state.local?.status]).toEqual([['RefundFailed'], 'refund-failed']);
  });

  it('payment: the fraud rule is the world\'s choice, kept per order so a duplicate CheckFraud gets the same answer', () => {
    const check = { type: 'CheckFraud' as const, payload: { orderId: 'o', customerId: 'c', amount: 10 } };
    const empty = { local: undefined, shared: null };
    expect((paymentDecider.choices?.['CheckFraud'] ?? []).map((c) => [c.fault, c.description])).toEqual([[undefined, undefined], ['fraud', 'the rule flags the order']]);
    expect(paymentDeciderWith({ idempotent: true, fraudCheck: false }).choices?.['CheckFraud']).toBeUndefined();
    const flagged = runParticipant(paymentDecider, check, empty, { kind: 'flagged', reason: 'rule 7' });
    expect(flagged.answers).toEqual([{ type: 'FraudSuspected', payload: { orderId: 'o', reason: 'rule 7' } }]);
    // The duplicate arrives when the world would now say "clean": the kept verdict answers, nothing changes.
    const again = runParticipant(paymentDecider, check, flagged.state, { kind: 'clean' });
    expect([again.answers, again.state]).toEqual([flagged.answers, flagged.state]);
    const cleared = runParticipant(paymentDecider, check, empty, { kind: 'clean' });
    expect(types(cleared.answers)).toEqual(['FraudCleared']);
    expect(runParticipant(paymentDecider, check, cleared.state, { kind: 'flagged', reason: 'x' }).answers).toEqual(cleared.answers);
    // Screened, then charged: the charge is made once and the verdict is kept beside it.
    const pay = { type: 'ProcessPayment' as const, payload: { orderId: 'o', customerId: 'c', amount: 10 } };
    const paid = runParticipant(paymentDecider, pay, cleared.state, { kind: 'captured', paymentId: 'p' });
    expect(types(paid.answers)).toEqual(['PaymentApproved']);
    expect(paid.state.local).toEqual({ status: 'approved', paymentId: 'p', captures: 1, fraud: { verdict: 'cleared' } });
    expect(runParticipant(paymentDecider, check, paid.state, { kind: 'flagged', reason: 'x' }).answers).toEqual(cleared.answers);
  });

  it('shipping: fails when the world says so, remembers the answer, refuses to deliver a failed shipment', () => {
    const prep = { type: 'PrepareShipment' as const, payload: { orderId: 'o', items } };
    const failed = runParticipant(shippingDecider, prep, { local: undefined, shared: null }, true);
    expect(types(failed.answers)).toEqual(['ShipmentFailed']);
    expect(types(runParticipant(shippingDecider, prep, failed.state, false).answers)).toEqual(['ShipmentFailed']);
    expect(() => shippingDecider.decide({ type: 'ConfirmDelivery', payload: { orderId: 'o' } }, failed.state, false)).toThrow(ShipmentNotDeliverableError);
  });
});
