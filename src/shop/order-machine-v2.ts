import { z } from 'zod';
import { setup, type EffectSpec, type MachineMigration } from '../machine/index.js';
import { orderEvents, orderMachineV1Config, orderMessages, orderVocabulary, type OrderContext } from './order-machine.js';

/**
 * Version 2 of the order machine: a fraud check between INVENTORY_RESERVED and
 * PAYMENT_PROCESSING (the payment service's rule, `CheckFraud` → `FraudCleared` or
 * `FraudSuspected`). Everything else is version 1 as it was; the migration from v1
 * below is what `ordo verify order --migration v1→v2` proves and `ordo migrate` applies.
 */
const v2 = setup({
  ...orderVocabulary,
  delays: { ...orderVocabulary.delays, fraudTimeout: '30s' },
  events: { ...orderEvents, FraudCleared: z.object({}), FraudSuspected: z.object({ reason: z.string().default('unspecified') }) },
  messages: {
    ...orderMessages,
    CheckFraud: z.object({ orderId: z.string(), customerId: z.string(), amount: z.number().int() }),
    FraudCheckRequested: z.object({ orderId: z.string(), customerId: z.string(), amount: z.number().int() }),
  },
});

/** v1's parts typed for v2's wider event set: their payload builders read only the context, so any event will do. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Widen<T> = T extends EffectSpec<infer C, infer _E> ? EffectSpec<C, any> : T extends (...args: never[]) => unknown ? T : T extends object ? { readonly [K in keyof T]: Widen<T[K]> } : T;
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it widens the builders' event type (the rule misreads `any`)
const v1 = orderMachineV1Config as Widen<typeof orderMachineV1Config>;
const late = ['FraudCleared', 'FraudSuspected'] as const;

export const orderMachineV2 = v2.createMachine({
  ...v1,
  version: 2,
  description: "The seed's order saga with a fraud check before payment.",
  steps: {
    ...v1.steps,
    checkFraud: { action: v2.send('payment', 'CheckFraud', (c) => ({ orderId: c.orderId, customerId: c.customerId, amount: c.total })) },
  },
  states: {
    ...v1.states,
    INVENTORY_RESERVED: {
      description: 'Stock is held for the order; the fraud check is requested at once.',
      always: 'FRAUD_CHECKING',
    },
    FRAUD_CHECKING: {
      description: 'Added in v2: the payment service screens the order before any money moves.',
      invoke: 'checkFraud',
      entry: [v2.publish('FraudCheckRequested', (c) => ({ orderId: c.orderId, customerId: c.customerId, amount: c.total }))],
      on: {
        FraudCleared: { target: 'PAYMENT_PROCESSING', completes: 'checkFraud' },
        FraudSuspected: { target: 'REVERTING_RESERVATION', fails: 'checkFraud', assign: 'recordFailure' },
        CancelRequested: { target: 'REVERTING_RESERVATION', assign: 'recordCancel' },
      },
      after: { fraudTimeout: { target: 'REVERTING_RESERVATION', assign: 'recordTimeout' } },
    },
    // A late or duplicated verdict (a redelivered CheckFraud answered again) changes nothing past the check.
    PAYMENT_PROCESSING: { ...v1.states.PAYMENT_PROCESSING, ignore: [...v1.states.PAYMENT_PROCESSING.ignore, ...late] },
    PREPARING_SHIPMENT: { ...v1.states.PREPARING_SHIPMENT, ignore: [...v1.states.PREPARING_SHIPMENT.ignore, ...late] },
    SHIPPED: { ...v1.states.SHIPPED, ignore: [...v1.states.SHIPPED.ignore, ...late] },
    REFUNDING_PAYMENT: { ...v1.states.REFUNDING_PAYMENT, ignore: [...v1.states.REFUNDING_PAYMENT.ignore, ...late] },
    REVERTING_RESERVATION: { ...v1.states.REVERTING_RESERVATION, ignore: [...v1.states.REVERTING_RESERVATION.ignore, ...late] },
    COMPENSATION_FAILED: { ...v1.states.COMPENSATION_FAILED, ignore: [...v1.states.COMPENSATION_FAILED.ignore, ...late] },
    CANCELED: { ...v1.states.CANCELED, ignore: [...v1.states.CANCELED.ignore, ...late] },
  },
});

/**
 * v1 → v2: every state keeps its name. An order already past INVENTORY_RESERVED is not
 * screened (its payment is under way or done); one still reserving will be, when its
 * reservation arrives. INVENTORY_RESERVED never holds an instance (it is left at once).
 */
export const orderMigrationV1toV2: MachineMigration<OrderContext, OrderContext> = {
  machine: 'order',
  from: 1,
  to: 2,
  description: 'adds the fraud check; in-flight orders keep their state',
  states: Object.fromEntries(Object.keys(v1.states).map((s) => [s, s])),
};

export type OrderMachineV2 = typeof orderMachineV2;
