import { describe, expect, it } from 'vitest';
import { start } from '../machine/index.js';
import { orderMachine } from '../shop/index.js';
import { seededRandom } from '../testing/index.js';
import { applyIncoming, applyStepFailure, parseStepTimerId, resendCommand, stepTimerId, type ApplyContext } from './apply-event.js';
import { createMachineRegistry, failureEventFor } from './machine-registry.js';
import { backoffDelay, checkRetryPolicy, defaultRetryPolicy } from './retry-policy.js';
import { STEP_FAILED } from './step-failed.js';
import { netTimerOps, WorkingInstance } from './working-instance.js';

const ctx: ApplyContext = { now: 1000, retry: { ...defaultRetryPolicy, maxAttempts: 2, initialDelayMs: 100, jitter: 0 }, random: () => 0, topics: {} };
const order = { orderId: 'o1', customerId: 'c', items: [{ sku: 's', quantity: 1, unitPrice: 5 }], total: 5 };

function reserving(): WorkingInstance {
  const r = start(orderMachine, order);
  const w = new WorkingInstance('o1', 'order', 1, undefined, r.snapshot);
  applyIncoming(w, orderMachine, { id: 'm1', type: 'OrderCreated', payload: {} }, ctx);
  return w;
}

describe('retry policy', () => {
  it('grows exponentially up to the cap, jitter only shortens', () => {
    const p = checkRetryPolicy({ maxAttempts: 9, initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(p, 3, () => 0.999999)).toBe(200);
    const r = seededRandom(1);
    for (let i = 0; i < 100; i++) expect(backoffDelay(p, 2, r)).toBeGreaterThanOrEqual(100);
  });
  it('rejects nonsense with a typed error', () => {
    expect(() => checkRetryPolicy({ ...defaultRetryPolicy, maxAttempts: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ENGINE_OPTION' }) as Error);
    expect(() => checkRetryPolicy({ ...defaultRetryPolicy, jitter: 2 })).toThrow(/jitter/);
  });
});

describe('failure transitions of the order machine', () => {
  it('finds the `fails` transition of an action and the non-confirming one of a compensation', () => {
    expect(failureEventFor(orderMachine, 'INVENTORY_RESERVING', 'reserveInventory', false)).toBe('InventoryInsufficient');
    expect(failureEventFor(orderMachine, 'PAYMENT_PROCESSING', 'processPayment', false)).toBe('PaymentRefused');
    expect(failureEventFor(orderMachine, 'PREPARING_SHIPMENT', 'prepareShipment', false)).toBe('ShipmentFailed');
    expect(failureEventFor(orderMachine, 'REFUNDING_PAYMENT', 'processPayment', true)).toBe('RefundFailed');
    expect(failureEventFor(orderMachine, 'REVERTING_RESERVATION', 'reserveInventory', true)).toBe('ReleaseFailed');
    expect(failureEventFor(orderMachine, 'SHIPPED', 'prepareShipment', false)).toBeUndefined();
  });
  it('a registry refuses duplicates and unknown machines', () => {
    expect(() => createMachineRegistry([orderMachine, orderMachine])).toThrow(/twice/);
    expect(() => createMachineRegistry([orderMachine]).newest('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_MACHINE' }) as Error);
  });
});

describe('step failures in memory', () => {
  it('schedules a resend, resends with attempt 2, then takes the failure transition', () => {
    const w = reserving();
    expect(w.pending).toMatchObject([{ step: 'reserveInventory', attempts: 1 }]);
    const f = { id: 'f1', type: STEP_FAILED, payload: { step: 'reserveInventory', attempt: 1, retryable: true, reason: 'busy' } };
    expect(applyIncoming(w, orderMachine, f, ctx)).toEqual({ kind: 'retry-scheduled', attempt: 1, retryInMs: 100 });
    expect(w.timerOps.at(-1)).toEqual({ op: 'set', timerId: stepTimerId('reserveInventory', false, w.snapshot.seq), kind: 'step', purpose: 'resend', dueAt: 1100 });
    resendCommand(w, orderMachine, { step: 'reserveInventory', compensation: false, seq: w.snapshot.seq }, ctx);
    expect(w.log.filter((m) => m.type === 'ReserveInventory').map((m) => m.metadata?.['attempt'])).toEqual([1, 2]);
    // A late failure of the first send says nothing about the second: stale.
    expect(applyIncoming(w, orderMachine, { ...f, id: 'f1-late' }, ctx)).toEqual({ kind: 'stale' });
    applyIncoming(w, orderMachine, { ...f, id: 'f2', payload: { ...f.payload, attempt: 2 } }, ctx);
    expect(w.snapshot.state).toBe('CANCELED');
    expect(w.attempts.map((a) => [a.attempt, a.retryAt])).toEqual([[1, 1100], [2, null]]);
  });
  it('an unanswered step with a machine timeout waits for that timeout; a stale one is ignored', () => {
    const w = reserving();
    const seq = w.snapshot.seq;
    expect(applyStepFailure(w, orderMachine, { step: 'reserveInventory', compensation: false, retryable: true, reason: 'no reply', seq: seq - 1 }, { type: 't' }, ctx)).toEqual({ kind: 'stale' });
    applyStepFailure(w, orderMachine, { step: 'reserveInventory', compensation: false, retryable: true, reason: 'no reply', seq }, { type: 't' }, ctx);
    resendCommand(w, orderMachine, { step: 'reserveInventory', compensation: false, seq }, ctx);
    expect(applyStepFailure(w, orderMachine, { step: 'reserveInventory', compensation: false, retryable: true, reason: 'no reply', seq, unanswered: true }, { type: 't' }, ctx)).toEqual({ kind: 'applied', changed: false });
    expect(w.snapshot.state).toBe('INVENTORY_RESERVING');
    expect(w.status).toBe('active');
    expect(w.pending).toEqual([]);
  });
  it('parsing step timer ids round-trips', () => {
    expect(parseStepTimerId(stepTimerId('a/b', true, 12))).toEqual({ step: 'a/b', compensation: true, seq: 12 });
    expect(parseStepTimerId('STATE/delay#3')).toBeUndefined();
  });
});

describe('net timer operations', () => {
  it('keeps the last operation per timer, and a clear drops what came before it', () => {
    expect(
      netTimerOps([
        { op: 'set', timerId: 'ordo.step/x/a#1', kind: 'step', purpose: 'timeout', dueAt: 1 },
        { op: 'set', timerId: 'S/d#1', kind: 'machine', purpose: 'fire', dueAt: 2 },
        { op: 'clear', kind: 'step' },
        { op: 'cancel', timerId: 'S/d#1' },
        { op: 'set', timerId: 'T/d#2', kind: 'machine', purpose: 'fire', dueAt: 3 },
      ]),
    ).toEqual({ clear: 'step', cancel: ['S/d#1'], set: [{ op: 'set', timerId: 'T/d#2', kind: 'machine', purpose: 'fire', dueAt: 3 }] });
    expect(netTimerOps([{ op: 'set', timerId: 'a', kind: 'machine', purpose: 'fire', dueAt: 1 }, { op: 'clear', kind: 'all' }])).toEqual({ clear: 'all', cancel: [], set: [] });
  });
});
