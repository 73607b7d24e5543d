import type { EffectSpec, Machine } from '../../machine/index.js';
import type { IncomingMessage, SagaEngine } from '../../runtime/index.js';
import { appendToStream, recordInbox, type Db } from '../../store/index.js';
import { topics, type ServiceName } from '../contracts.js';
import type { OrderContext } from '../order-machine.js';
import type { WiringMode } from '../services/service-definitions.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/** What a correction needs of the orders service (its log, its relay, its saga engine). */
export interface CorrectionTarget {
  readonly db: Db;
  readonly engine: Pick<SagaEngine, 'getSaga'>;
  readonly machine: AnyMachine;
  notify(): void;
}

/**
 * The reconciler corrects through the services' normal messages: it appends them to the
 * orders service's log (its outbox), and the relay forwards them. Their ids start with this
 * prefix, and the services' replies carry them as `causationId`.
 */
export const RECONCILE_ID_PREFIX = 'reconcile/';

export interface ServiceCommand {
  readonly topic: string;
  readonly type: string;
  readonly payload: object;
}

/** In choreography the services react to the order's events instead of commands (service-definitions.ts). */
const CHOREOGRAPHY_EVENT: Readonly<Record<string, string>> = {
  ReserveInventory: 'OrderCreated',
  ReleaseInventory: 'ReservationReleaseRequested',
  ProcessPayment: 'PaymentRequested',
  RefundPayment: 'RefundRequested',
  PrepareShipment: 'ShipmentRequested',
};

function effectSpecs(machine: AnyMachine): EffectSpec<unknown, unknown>[] {
  return Object.values(machine.states).flatMap((s) => [
    ...s.entry,
    ...Object.values(s.on).flatMap((ts) => ts.flatMap((t) => t.effects)),
    ...Object.values(s.after).flatMap((ts) => ts.flatMap((t) => t.effects)),
    ...s.always.flatMap((t) => t.effects),
  ]);
}

function build(spec: EffectSpec<unknown, unknown>, context: OrderContext): object {
  return spec.build ? spec.build(context, { type: 'reconcile' }) : {};
}

/**
 * The message that asks a service for a step's action (or its compensation) again, in
 * the form the current wiring uses, with the payload the machine's own definition builds.
 */
export function stepCommand(machine: AnyMachine, mode: WiringMode, step: string, part: 'action' | 'compensation', context: OrderContext): ServiceCommand {
  const spec = machine.steps[step]?.[part];
  if (!spec || spec.kind !== 'send' || !spec.to) throw new Error(`order machine has no ${part} command for step ${step}`);
  if (mode === 'orchestration') return { topic: topics.commands(spec.to as ServiceName), type: spec.message, payload: build(spec, context) };
  const event = CHOREOGRAPHY_EVENT[spec.message];
  const published = event === undefined ? undefined : effectSpecs(machine).find((e) => e.kind === 'publish' && e.message === event);
  if (!published) throw new Error(`no order event stands for ${spec.message} in choreography`);
  return { topic: topics.orderEvents, type: published.message, payload: build(published, context) };
}

/** The carrier's confirmation goes to the shipping service as a command in both wirings (as the gateway sends it). */
export function confirmDeliveryCommand(orderId: string): ServiceCommand {
  return { topic: topics.commands('shipping'), type: 'ConfirmDelivery', payload: { orderId } };
}

/** Appends the command to the orders outbox; a new id each round, since the services are idempotent by order. */
export async function sendCorrection(orders: Pick<CorrectionTarget, 'db' | 'notify'>, orderId: string, command: ServiceCommand, roundId: string): Promise<{ messageId: string; topic: string; type: string }> {
  const messageId = `${RECONCILE_ID_PREFIX}${orderId}/${command.type}/${roundId}`;
  await orders.db.transaction((tx) =>
    appendToStream(tx, `reconcile-${orderId}`, 'any', [
      { id: messageId, type: command.type, data: command.payload, metadata: { topic: command.topic, key: orderId, kind: 'reconcile', correlationId: orderId } },
    ]),
  );
  orders.notify();
  return { messageId, topic: command.topic, type: command.type };
}

/** The inbox consumer under which replies nobody waits for are recorded as handled (a trace for operators and tests). */
export const UNWANTED_REPLIES_CONSUMER = 'orders-reconciler-replies';

/**
 * Whether a service's reply should reach the order saga. Replies to the reconciler's
 * messages go on only while the order is waiting for exactly that reply: an order that
 * has finished (a release or refund for a CANCELED order) or has moved on (the first
 * answer got there after all) does not take a second one, which would be dead-lettered.
 * A reply held back is recorded in the orders inbox under UNWANTED_REPLIES_CONSUMER.
 */
export async function replyWanted(orders: Pick<CorrectionTarget, 'engine' | 'machine' | 'db'>, message: IncomingMessage): Promise<boolean> {
  if (!message.headers?.causationId?.startsWith(RECONCILE_ID_PREFIX)) return true;
  const saga = await orders.engine.getSaga(message.key);
  const state = saga && saga.status !== 'final' ? (orders.machine.states[saga.snapshot.state]) : undefined;
  if (state?.on[message.type] !== undefined) return true;
  await recordInbox(orders.db, UNWANTED_REPLIES_CONSUMER, message.id);
  return false;
}
