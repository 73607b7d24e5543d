import { describe, expect, it } from 'vitest';
import { accepts, InvalidTransitionError } from '../machine/index.js';
import { DeciderSpecification, foldEvents, InvalidCommandError, ReplayMismatchError, type TransitionData } from '../eventsourcing/index.js';
import { ORDER_COMMAND_EVENTS, orderDecider, type OrderCommand, type OrderEvent } from './order-aggregate.js';
import { orderMachine } from './order-machine.js';

const spec = DeciderSpecification.for(orderDecider);
const create: OrderCommand = { type: 'CreateOrder', orderId: 'o1', customerId: 'c1', items: [{ sku: 'A', quantity: 2, unitPrice: 150 }, { sku: 'B', quantity: 1, unitPrice: 700 }] };

/** The events the aggregate itself records for these commands (a history to start from). */
function history(...commands: OrderCommand[]): OrderEvent[] {
  const events: OrderEvent[] = [];
  for (const c of commands) events.push(...orderDecider.decide(c, foldEvents(orderDecider, events)));
  return events;
}
const created = history(create);
const reserving = history(create, { type: 'ReserveInventory' });
const paying = history(create, { type: 'ReserveInventory' }, { type: 'ConfirmInventoryReserved', reservationId: 'r1' });
const preparing = history(create, { type: 'ReserveInventory' }, { type: 'ConfirmInventoryReserved', reservationId: 'r1' }, { type: 'ConfirmPayment', paymentId: 'p1' });
const shipped = [...preparing, ...orderDecider.decide({ type: 'ShipOrder', trackingNumber: 't1' }, foldEvents(orderDecider, preparing))];
const delivered = [...shipped, ...orderDecider.decide({ type: 'ConfirmDelivery' }, foldEvents(orderDecider, shipped))];
const canceled = history(create, { type: 'CancelOrder', reason: 'changed my mind' });

const transition = (trigger: string, event: Record<string, unknown>, path: [string, string][], changes: Record<string, unknown> = {}): OrderEvent => ({
  type: 'ordo.transition',
  data: {
    trigger: { type: trigger },
    event,
    from: path[0]?.[0] ?? '',
    to: path.at(-1)?.[1] ?? '',
    path: path.map(([from, to], i) => ({ from, to, event: i === 0 ? trigger : 'always' })),
    changes,
  } satisfies TransitionData,
  metadata: { kind: 'timeline', machine: 'order', machineVersion: 1 },
});

describe('order aggregate: given / when / then', () => {
  it('CreateOrder records the start with the items and the computed total (INITIATED, as in the seed)', () => {
    const context = { orderId: 'o1', customerId: 'c1', items: [{ sku: 'A', quantity: 2, unitPrice: 150 }, { sku: 'B', quantity: 1, unitPrice: 700 }], total: 1000 };
    spec.given([]).when(create).then([
      {
        type: 'ordo.transition',
        data: {
          trigger: { type: 'ordo.start' },
          event: { context },
          from: null,
          to: 'INITIATED',
          path: [],
          changes: context,
        },
        metadata: { kind: 'timeline', machine: 'order', machineVersion: 1 },
      },
    ]);
  });

  it('CreateOrder with no items is refused, as in the seed', () => {
    const err = spec.given([]).when({ type: 'CreateOrder', orderId: 'o1', customerId: 'c1', items: [] }).thenThrows(InvalidCommandError);
    expect(err.issues).toEqual(['items: an order must have at least one item']);
  });

  it('CreateOrder on an existing order is an invalid transition', () => {
    spec.given(created).when(create).thenThrows(InvalidTransitionError, (e) => e.state === 'INITIATED' && e.event === 'ordo.start');
  });

  it('no command is accepted before the order exists', () => {
    spec.given([]).when({ type: 'ReserveInventory' }).thenThrows(InvalidTransitionError, (e) => e.state === '(not started)');
  });

  it('ReserveInventory moves INITIATED to INVENTORY_RESERVING', () => {
    spec.given(created).when({ type: 'ReserveInventory' }).then([transition('OrderCreated', {}, [['INITIATED', 'INVENTORY_RESERVING']])]);
  });

  it('ConfirmInventoryReserved records the reservation and goes on to payment through INVENTORY_RESERVED', () => {
    spec
      .given(reserving)
      .when({ type: 'ConfirmInventoryReserved', reservationId: 'r1' })
      .then([transition('InventoryReserved', { reservationId: 'r1' }, [['INVENTORY_RESERVING', 'INVENTORY_RESERVED'], ['INVENTORY_RESERVED', 'PAYMENT_PROCESSING']], { reservationId: 'r1' })]);
  });

  it('the seed: confirming inventory outside INVENTORY_RESERVING is refused with the state and event', () => {
    spec.given(created).when({ type: 'ConfirmInventoryReserved', reservationId: 'r1' }).thenThrows(InvalidTransitionError, (e) => e.state === 'INITIATED' && e.event === 'InventoryReserved');
  });

  it('nothing ships unpaid', () => {
    spec.given(paying).when({ type: 'ShipOrder', trackingNumber: 't1' }).thenThrows(InvalidTransitionError, (e) => e.state === 'PAYMENT_PROCESSING');
  });

  it('a refused payment reverts the reservation and records why', () => {
    spec
      .given(paying)
      .when({ type: 'RefusePayment', reason: 'card declined' })
      .then([transition('PaymentRefused', { reason: 'card declined' }, [['PAYMENT_PROCESSING', 'REVERTING_RESERVATION']], { failureReason: 'PaymentRefused: card declined' })]);
  });

  it('pay, ship, deliver reach DELIVERED, and a delivered order accepts nothing more', () => {
    expect(foldEvents(orderDecider, delivered)?.state).toBe('DELIVERED');
    spec.given(delivered).when({ type: 'ConfirmDelivery' }).thenThrows(InvalidTransitionError, (e) => e.state === 'DELIVERED');
    spec.given(delivered).when({ type: 'CancelOrder' }).thenThrows(InvalidTransitionError);
  });

  it('a customer may cancel while paying (refund first) but not once the shipment is being prepared', () => {
    spec.given(paying).when({ type: 'CancelOrder', reason: 'x' }).then([transition('CancelRequested', { reason: 'x' }, [['PAYMENT_PROCESSING', 'REFUNDING_PAYMENT']], { failureReason: 'canceled: x' })]);
    spec.given(preparing).when({ type: 'CancelOrder', reason: 'x' }).thenThrows(InvalidTransitionError, (e) => e.state === 'PREPARING_SHIPMENT');
  });

  it('cancelling a cancelled order is accepted and records nothing', () => {
    spec.given(canceled).when({ type: 'CancelOrder' }).thenNothingHappened();
  });

  it('every command is valid exactly where the machine accepts its event (the rules are not restated)', () => {
    const histories = { created, reserving, paying, preparing, shipped, delivered, canceled };
    const samples: Record<string, OrderCommand> = {
      ReserveInventory: { type: 'ReserveInventory' },
      ConfirmInventoryReserved: { type: 'ConfirmInventoryReserved', reservationId: 'r' },
      RejectInventory: { type: 'RejectInventory' },
      ConfirmPayment: { type: 'ConfirmPayment', paymentId: 'p' },
      RefusePayment: { type: 'RefusePayment' },
      ShipOrder: { type: 'ShipOrder', trackingNumber: 't' },
      FailShipment: { type: 'FailShipment' },
      ConfirmDelivery: { type: 'ConfirmDelivery' },
      CancelOrder: { type: 'CancelOrder' },
      ConfirmRefund: { type: 'ConfirmRefund' },
      FailRefund: { type: 'FailRefund' },
      ConfirmRelease: { type: 'ConfirmRelease' },
      FailRelease: { type: 'FailRelease' },
      RetryCompensation: { type: 'RetryCompensation' },
    };
    let checked = 0;
    for (const events of Object.values(histories)) {
      const state = foldEvents(orderDecider, events);
      if (!state) throw new Error('history did not start');
      for (const [name, command] of Object.entries(samples)) {
        const eventType = ORDER_COMMAND_EVENTS[name as keyof typeof ORDER_COMMAND_EVENTS];
        let valid = true;
        try {
          orderDecider.decide(command, state);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidTransitionError);
          valid = false;
        }
        expect([state.state, name, valid]).toEqual([state.state, name, accepts(orderMachine, state.state, eventType)]);
        checked++;
      }
    }
    expect(checked).toBe(7 * 14);
  });

  it('replaying a transition that no longer reaches the recorded state fails loudly', () => {
    const forged = transition('OrderCreated', {}, [['INITIATED', 'SHIPPED']]);
    expect(() => foldEvents(orderDecider, [...created, forged])).toThrow(ReplayMismatchError);
  });

  it('the state is the fold of the events (snapshot carries the context)', () => {
    const s = foldEvents(orderDecider, delivered);
    expect(s).toMatchObject({ machine: 'order', state: 'DELIVERED', context: { reservationId: 'r1', paymentId: 'p1', trackingNumber: 't1', total: 1000 } });
  });
});
