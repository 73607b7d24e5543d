import { delayOfTimer } from '../machine/index.js';
import { openPglite, readStream, type Db } from '../store/index.js';
import { createSagaEngine, subscribeSagaEngine, type IncomingMessage, type SagaEngine, type SagaEngineOptions } from '../runtime/index.js';
import { createInProcessTransport } from '../transport/index.js';
import type { SystemView, TraceStep } from '../verify/index.js';
import { ModelServices, TraceStepNotReplayableError, newRecords, replyTo, type QueuedCommand, type ServiceRecords } from './replay-services.js';
import { sampleOrder } from './run-until-quiet.js';
import { VirtualClock } from './virtual-clock.js';

export { TraceStepNotReplayableError } from './replay-services.js';

export interface ReplayTraceOptions {
  /** The machine the real engine runs (the one the trace was checked on, or a fixed one). */
  readonly machine: SagaEngineOptions['machines'][number];
  /** Units each order asks for (the model's `quantity`, default 1). */
  readonly quantity?: number;
  /** Context of order n (1-based); default `sampleOrder(sagaId, quantity)`. */
  readonly context?: (sagaId: string, order: number) => unknown;
  /** Saga id of order n (default `replay-<n>`). */
  readonly sagaId?: (order: number) => string;
  /** A database to run on (migrated by the engine); default a new in-memory PGlite, closed afterwards. */
  readonly db?: Db;
}

/**
 * What the checker's trace says about the system, and what the replay sees: the checker's
 * own view (available stock; per order its state, the services' records, and the commands
 * then replies in flight, in the model's queue order).
 */
export type ReplayView = SystemView;
export type ReplayOrderView = SystemView['orders'][number];

export interface ReplayDivergence {
  readonly step: number;
  readonly action: string;
  /** One line per differing field, e.g. `order 1 state: expected CANCELED, actual REVERTING_RESERVATION`. */
  readonly differences: readonly string[];
  readonly expected: ReplayView;
  readonly actual: ReplayView;
}

export interface ReplayReport {
  /** Trace steps carried out (step 0, the start, included). */
  readonly steps: number;
  readonly divergences: readonly ReplayDivergence[];
  /** Set when a step could not be carried out (e.g. the engine never sent the command the trace handles); the replay ends there. */
  readonly stoppedAt?: { readonly step: number; readonly reason: string };
  /** The engine's answer per step that gave it input (`applied`, `duplicate`, `dead-lettered`, timers fired, …). */
  readonly results: readonly { readonly step: number; readonly action: string; readonly results: readonly string[] }[];
  /** Every command the engine wrote to its outbox, in order per saga. */
  readonly commands: readonly { readonly sagaId: string; readonly id: string; readonly type: string }[];
  readonly final: ReplayView;
}

const SERVICE_QUEUES = ['inventory', 'payment', 'shipping'] as const;
type ServiceQueue = (typeof SERVICE_QUEUES)[number];

interface OrderSide {
  readonly sagaId: string;
  readonly queues: Record<ServiceQueue, QueuedCommand[]>;
  readonly replies: IncomingMessage[];
  readonly records: ServiceRecords;
  seenVersion: number;
}

/**
 * Replays a trace of `checkOrderSystem` (a counterexample, or any path to a state)
 * against the real saga engine on PGlite, step by step, and compares every order
 * after each step with what the trace says, so a counterexample becomes a
 * regression test.
 *
 * Replayed on the real runtime (the orders side):
 * - init: `startSaga` per order (saga ids `replay-<n>`, context `sampleOrder`);
 * - `orders send OrderCreated`, `customer send CancelRequested`, `carrier send DeliveryConfirmed`:
 *   a message published on the in-process transport and fed to the engine by `subscribeSagaEngine`;
 *   `operator send CompensationRetried`: `engine.retryCompensation`;
 * - `orders handle <reply>`: the reply at the head of the order's reply queue, published the
 *   same way (a duplicated reply has the same id, so the engine's inbox answers `duplicate`);
 * - `timer fire <delay>`: the virtual clock jumps to that timer's deadline and the engine fires
 *   it; every other timer is moved along by the same amount, because the model orders
 *   deadlines but has no wall-clock time (so only the named timer may pass).
 * - Commands are not invented: after each step the engine's outbox (its saga streams,
 *   `metadata.kind = 'command'`) is read and the commands appended to per-order service queues.
 *
 * Simulated, model-shaped (the other side): the inventory, payment and shipping services are
 * the model's handlers in memory (replay-services.ts), answering the real commands at the
 * head of their queues; the network faults (duplicate, reorder, loss) and crashes act on those
 * queues exactly as in the model. So service records (`inventory`, `payment`, `captures`,
 * `shipping`, `available`) are checked against the trace but come from the simulation; the
 * order `state` and the commands in flight come from the real engine.
 *
 * A step that cannot be carried out (the trace handles a command the engine never sent, a
 * timer the engine has not armed) ends the replay with `stoppedAt`.
 */
export async function replayTrace(trace: readonly TraceStep[], options: ReplayTraceOptions): Promise<ReplayReport> {
  const first = trace[0];
  if (!first || first.actor !== 'init') throw new TraceStepNotReplayableError(0, first?.action ?? 'none', 'a trace starts with its init step');
  const quantity = options.quantity ?? 1;
  const ownDb = options.db === undefined;
  const db = options.db ?? (await openPglite());
  const clock = new VirtualClock();
  const engine = createSagaEngine({ db, machines: [options.machine], clock, pollIntervalMs: false });
  // Every message reaches the engine the way it does in the shop: published on the in-process
  // transport and fed to the engine by subscribeSagaEngine. Publish-side dedup is off: a
  // duplicate in the trace is a redelivery past the broker, which only the engine's inbox stops.
  const waiting = new Map<string, (statuses: string[]) => void>();
  const settle = (id: string, statuses: string[]) => {
    waiting.get(id)?.(statuses);
    waiting.delete(id);
  };
  const transport = createInProcessTransport({ dedupWindowMs: 0, onDeadLetter: (d) => settle(d.message.id, [`transport dead letter: ${d.reason}`]) });
  const watched: Pick<SagaEngine, 'deliver'> = {
    async deliver(messages) {
      const results = await engine.deliver(messages);
      messages.forEach((m, i) => settle(m.id, [results[i]?.status ?? 'none']));
      return results;
    },
  };
  const deliver: Deliver = async (m) => {
    const done = new Promise<string[]>((resolve) => waiting.set(m.id, resolve));
    await transport.publish([{ id: m.id, topic: REPLAY_TOPIC, key: m.key, type: m.type, payload: m.payload, headers: {} }]);
    return done;
  };
  try {
    await engine.start();
    const sub = await subscribeSagaEngine(watched, transport, { topic: REPLAY_TOPIC, maxDeliver: 1 });
    try {
      return await run(trace, first, options, quantity, { db, clock, engine, deliver });
    } finally {
      await sub.close();
    }
  } finally {
    await transport.close();
    await engine.stop();
    if (ownDb) await db.close();
  }
}

const REPLAY_TOPIC = 'replay-replies';
/** Hands one message to the engine (through the transport) and resolves with the engine's answer once committed. */
type Deliver = (m: IncomingMessage) => Promise<string[]>;

async function run(trace: readonly TraceStep[], first: TraceStep, options: ReplayTraceOptions, quantity: number, io: Omit<StepDeps, 'services'>): Promise<ReplayReport> {
  const { db, engine } = io;
  const idOf = options.sagaId ?? ((n: number) => `replay-${n}`);
  const services = new ModelServices(first.available, quantity);
  const orders: OrderSide[] = first.orders.map((_, i) => ({
    sagaId: idOf(i + 1),
    queues: { inventory: [], payment: [], shipping: [] },
    replies: [],
    records: newRecords(),
    seenVersion: 0,
  }));
  const commands: { sagaId: string; id: string; type: string }[] = [];
  const results: { step: number; action: string; results: string[] }[] = [];
  const divergences: ReplayDivergence[] = [];

  for (const [i, o] of orders.entries()) {
    await engine.startSaga(o.sagaId, options.machine.id, options.context ? options.context(o.sagaId, i + 1) : sampleOrder(o.sagaId, quantity));
  }

  /** Moves the commands the engine committed since the last look into the orders' service queues. */
  const drainOutbox = async () => {
    for (const o of orders) {
      const saga = await engine.getSaga(o.sagaId);
      if (!saga) continue;
      for (const m of await readStream(db, saga.stream, { fromVersion: o.seenVersion + 1 })) {
        o.seenVersion = m.streamVersion;
        if (m.metadata['kind'] !== 'command') continue;
        const to = m.metadata['to'];
        const queue = SERVICE_QUEUES.find((q) => q === to);
        if (!queue) throw new TraceStepNotReplayableError(-1, m.type, `the engine sent ${m.type} to ${String(to)}, a service the order-system model does not have`);
        o.queues[queue].push({ id: m.id, type: m.type, data: m.data });
        commands.push({ sagaId: o.sagaId, id: m.id, type: m.type });
      }
    }
  };
  const actualView = async (): Promise<ReplayView> => ({
    available: services.available,
    orders: await Promise.all(
      orders.map(async (o) => ({
        state: (await engine.getSaga(o.sagaId))?.snapshot.state ?? '(missing)',
        ...o.records,
        inFlight: [...o.queues.inventory, ...o.queues.payment, ...o.queues.shipping, ...o.replies].map((m) => m.type),
      })),
    ),
  });
  const compare = async (s: TraceStep) => {
    const expected: ReplayView = { available: s.available, orders: s.orders.map((o) => ({ state: o.state, inventory: o.inventory, payment: o.payment, captures: o.captures, shipping: o.shipping, inFlight: [...o.inFlight] })) };
    const actual = await actualView();
    const differences = diff(expected, actual);
    if (differences.length > 0) divergences.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, differences, expected, actual });
  };

  await drainOutbox();
  await compare(first);
  let steps = 1;
  for (const s of trace.slice(1)) {
    const o = orders[s.order - 1];
    try {
      if (!o) throw new TraceStepNotReplayableError(s.step, s.action, `order ${s.order} is not in the trace's initial state`);
      const out = await applyStep(s, o, { ...io, services });
      if (out.length > 0) results.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, results: out });
      await drainOutbox();
    } catch (e) {
      if (!(e instanceof TraceStepNotReplayableError)) throw e;
      const reason = e.reason;
      const actual = await actualView();
      divergences.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, differences: [reason], expected: { available: s.available, orders: s.orders }, actual });
      return { steps, divergences, stoppedAt: { step: s.step, reason }, results, commands, final: actual };
    }
    steps++;
    await compare(s);
  }
  return { steps, divergences, results, commands, final: await actualView() };
}

interface StepDeps {
  readonly engine: SagaEngine;
  readonly db: Db;
  readonly clock: VirtualClock;
  readonly services: ModelServices;
  readonly deliver: Deliver;
}

/** Carries out one model step on the real side; returns the engine's answers (empty for a step that only moves messages). */
async function applyStep(s: TraceStep, o: OrderSide, d: StepDeps): Promise<string[]> {
  const fail = (why: string): never => {
    throw new TraceStepNotReplayableError(s.step, s.action, why);
  };
  const head = <T extends { type: string }>(q: T[], name: string): T => {
    const expect = s.message;
    const m = q[0];
    if (!m) return fail(`the ${name} queue is empty: the engine never sent what the trace handles`);
    if (expect !== undefined && m.type !== expect) return fail(`the head of the ${name} queue is ${m.type}, the trace handles ${expect}`);
    return m;
  };
  const serve = (queue: ServiceQueue, cmd: QueuedCommand): string =>
    queue === 'inventory' ? d.services.inventory(o.records, cmd) : queue === 'payment' ? d.services.payment(o.records, cmd) : d.services.shipping(o.records);

  const [verb = '', word = ''] = s.action.split(' ');
  switch (s.actor) {
    case 'orders':
    case 'customer':
    case 'carrier':
    case 'operator': {
      if (s.actor === 'orders' && verb === 'handle') {
        const reply = head(o.replies, 'reply');
        o.replies.shift();
        return d.deliver(reply);
      }
      if (verb !== 'send') return fail('unknown action');
      if (word === 'CompensationRetried') return [(await d.engine.retryCompensation(o.sagaId)).status];
      const payload = word === 'CancelRequested' ? { reason: 'customer' } : {};
      // OrderCreated has one id per order (the orders service creates it once); others are one message per step.
      const id = word === 'OrderCreated' ? `${o.sagaId}/OrderCreated` : `${o.sagaId}/${word}/${s.step}`;
      return d.deliver({ id, key: o.sagaId, type: word, payload });
    }
    case 'timer':
      return [await fireTimer(s, o, d, word, fail)];
    case 'inventory':
    case 'payment':
    case 'shipping': {
      const queue = s.actor;
      const cmd = head(o.queues[queue], queue);
      o.queues[queue].shift();
      if (verb === 'handle') o.replies.push(replyTo(cmd, o.sagaId, serve(queue, cmd)));
      else if (verb === 'decline') {
        o.records.payment = 'declined';
        o.replies.push(replyTo(cmd, o.sagaId, 'PaymentRefused'));
      } else if (verb === 'capture') {
        // The provider captured but never answered: no reply at all.
        o.records.payment = 'captured';
        o.records.captures = Math.min(3, o.records.captures + 1);
      } else if (verb === 'fail') {
        o.records.shipping = 'failed';
        o.replies.push(replyTo(cmd, o.sagaId, 'ShipmentFailed'));
      } else fail('unknown action');
      return [];
    }
    case 'crash': {
      // The service handled the command and committed, then crashed before acking: it stays queued.
      const queue = SERVICE_QUEUES.find((q) => q === verb) ?? fail('unknown service');
      const cmd = head(o.queues[queue], queue);
      o.replies.push(replyTo(cmd, o.sagaId, serve(queue, cmd)));
      return [];
    }
    case 'network': {
      const name = /on (\w+) queue|^reorder (\w+) queue/.exec(s.action);
      const qname = name?.[1] ?? name?.[2] ?? fail('no queue named');
      const service = SERVICE_QUEUES.find((x) => x === qname);
      const q: { type: string }[] = qname === 'replies' ? o.replies : service ? o.queues[service] : fail(`unknown queue ${qname}`);
      const first = head(q, qname); // for a reorder too: the trace names the message overtaken
      if (verb === 'duplicate') q.splice(1, 0, first); // the very same message (same id) twice
      else if (verb === 'reorder') {
        const second = q[1] ?? fail(`the ${qname} queue has one message, nothing to reorder`);
        q[0] = second;
        q[1] = first;
      } else if (verb === 'lose') q.push(q.shift() ?? first); // lost, resent later by the sender's outbox
      else fail('unknown action');
      return [];
    }
    default:
      return fail(`actor ${s.actor} has no replay`);
  }
}

/**
 * Fires exactly the order's timer the trace names: the virtual clock jumps to its
 * deadline while every other timer is moved along by the same amount. The model has
 * no wall-clock time, only the order in which deadlines pass, so no other deadline
 * may pass with this one.
 */
async function fireTimer(s: TraceStep, o: OrderSide, d: StepDeps, delay: string, fail: (why: string) => never): Promise<string> {
  const rows = await d.db.query<{ timer_id: string; due_at: string }>(`SELECT timer_id, due_at::text AS due_at FROM ordo_saga_timers WHERE saga_id = $1 AND kind = 'machine'`, [o.sagaId]);
  const timer = rows.rows.find((r) => delayOfTimer(r.timer_id) === delay) ?? fail(`the engine has no ${delay} timer armed for ${o.sagaId}`);
  const delta = Math.max(0, Number(timer.due_at) - d.clock.now());
  await d.db.query('UPDATE ordo_saga_timers SET due_at = due_at + $1 WHERE NOT (saga_id = $2 AND timer_id = $3)', [String(delta), o.sagaId, timer.timer_id]);
  // The engine listens to the clock: advancing it fires what became due; the explicit pass catches the rest.
  await d.clock.advance(delta);
  await d.engine.fireDueTimers();
  const left = await d.db.query('SELECT 1 FROM ordo_saga_timers WHERE saga_id = $1 AND timer_id = $2', [o.sagaId, timer.timer_id]);
  if (left.rows.length > 0) fail(`the ${delay} timer did not fire`);
  return `fired ${timer.timer_id}`;
}

function diff(expected: ReplayView, actual: ReplayView): string[] {
  const out: string[] = [];
  if (expected.available !== actual.available) out.push(`available: expected ${expected.available}, actual ${actual.available}`);
  expected.orders.forEach((e, i) => {
    const a = actual.orders[i];
    for (const k of ['state', 'inventory', 'payment', 'captures', 'shipping'] as const) {
      if (e[k] !== a?.[k]) out.push(`order ${i + 1} ${k}: expected ${String(e[k])}, actual ${String(a?.[k])}`);
    }
    const ef = e.inFlight.join(',');
    const af = a?.inFlight.join(',') ?? '';
    if (ef !== af) out.push(`order ${i + 1} in flight: expected [${ef}], actual [${af}]`);
  });
  return out;
}
