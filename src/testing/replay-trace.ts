import { delayOfTimer, type Effect, type Machine, type MachineMigration } from '../machine/index.js';
import { openPglite, readStream, type Db, type StoredMessage } from '../store/index.js';
import { createSagaEngine, migrateSagas, subscribeSagaEngine, type IncomingMessage, type SagaEngine, type SagaEngineOptions } from '../runtime/index.js';
import { createInProcessTransport } from '../transport/index.js';
import { canonicalJson, effectRouter, samplePayload, type SystemDefinition, type SystemView, type TraceStep } from '../verify/index.js';
import { DeciderServices, TraceStepNotReplayableError, replyTo, type QueuedCommand } from './replay-services.js';
import { VirtualClock } from './virtual-clock.js';

export { TraceStepNotReplayableError } from './replay-services.js';

export interface ReplayTraceOptions {
  /** The system the trace was checked on: its participants' deciders answer the engine's commands. */
  readonly definition: SystemDefinition;
  /** The machine the real engine runs (default the definition's; or a fixed one). */
  readonly machine?: SagaEngineOptions['machines'][number];
  /** Context of key n (1-based); default the definition's context, so the deciders see the checker's payloads. */
  readonly context?: (sagaId: string, order: number) => unknown;
  /** Saga id of order n (default `replay-<n>`). */
  readonly sagaId?: (order: number) => string;
  /** A database to run on (migrated by the engine); default a new in-memory PGlite, closed afterwards. */
  readonly db?: Db;
  /** A trace of a migration check: the sagas start on `from`, and a `migrator` step moves one to `to` (the runtime's `migrateSagas`, as `ordo migrate` does). */
  readonly migration?: ReplayMigration;
}

/** One live migration: the mapping and both versions of the machine. */
export interface ReplayMigration {
  readonly migration: MachineMigration<never, unknown>;
  readonly from: Machine<string, { type: string }, unknown>;
  readonly to: Machine<string, { type: string }, unknown>;
}

/**
 * What the checker's trace says about the system, and what the replay sees: the checker's
 * own view (the participants' shared states; per key its state, each participant's local
 * state, and the commands then replies in flight, in the model's queue order).
 */
export type ReplayView = SystemView;
export type ReplayKeyView = SystemView['keys'][number];

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

interface KeySide {
  readonly index: number;
  readonly sagaId: string;
  /** One command queue per participant, by name. */
  readonly queues: Record<string, QueuedCommand[]>;
  readonly replies: IncomingMessage[];
  seenVersion: number;
}

/**
 * Replays a trace of `checkSystem` (a counterexample, or any path to a state) against
 * the real saga engine on PGlite, step by step, and compares every key after each step
 * with what the trace says, so a counterexample becomes a regression test.
 *
 * Replayed on the real runtime (the orchestrating side):
 * - init: `startSaga` per key (saga ids `replay-<n>`, the definition's context);
 * - `<actor> send <event>`: a message published on the in-process transport and fed to the
 *   engine by `subscribeSagaEngine` (`CompensationRetried`: `engine.retryCompensation`);
 * - `<orchestrator> handle <reply>`: the reply at the head of the key's reply queue, published
 *   the same way (a duplicated reply has the same id, so the engine's inbox answers `duplicate`);
 * - `timer fire <delay>`: the virtual clock jumps to that timer's deadline and the engine fires
 *   it; every other timer is moved along by the same amount, because the model orders
 *   deadlines but has no wall-clock time (so only the named timer may pass).
 * - `crash relay publishes twice after: <step>`: the step, then every message it committed queued again, same
 *   id, behind the originals (the outbox relay republishing from its checkpoint after a crash);
 * - Commands are not invented: after each step the engine's outbox (its saga streams,
 *   `metadata.kind = 'command'`) is read and the commands appended to per-participant queues.
 *
 * The participants (the other side) are the definition's own deciders in memory
 * (replay-services.ts) — the code the services run — answering the real commands at the
 * head of their queues with the world's choice the trace names; the network faults
 * (duplicate, reorder, loss) and crashes act on those queues exactly as in the model.
 *
 * A step that cannot be carried out (the trace handles a command the engine never sent, a
 * timer the engine has not armed) ends the replay with `stoppedAt`.
 */
export async function replayTrace(trace: readonly TraceStep[], options: ReplayTraceOptions): Promise<ReplayReport> {
  const first = trace[0];
  if (!first || first.actor !== 'init') throw new TraceStepNotReplayableError(0, first?.action ?? 'none', 'a trace starts with its init step');
  const machine = options.migration?.from ?? options.machine ?? options.definition.machine;
  const ownDb = options.db === undefined;
  const db = options.db ?? (await openPglite());
  const clock = new VirtualClock();
  // A migration replay: the engine knows both versions, a second engine that knows only the old one starts the sagas on it.
  const engine = createSagaEngine({ db, machines: options.migration ? [options.migration.from, options.migration.to] : [machine], clock, pollIntervalMs: false });
  const starter = options.migration ? createSagaEngine({ db, machines: [options.migration.from], clock, pollIntervalMs: false }) : engine;
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
      return await run(trace, first, options, machine.id, { db, clock, engine, deliver, starter });
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

/** A message of the saga's log as the machine effect that wrote it (commands: `send`; published events: `publish`; anything else: none). */
function loggedEffect(m: StoredMessage): Effect | undefined {
  const payload = (m.data ?? {});
  if (m.metadata['kind'] === 'command') return { kind: 'send', to: String(m.metadata['to']), message: m.type, payload };
  if (m.metadata['kind'] === 'event') return { kind: 'publish', message: m.type, payload };
  return undefined;
}
/** Hands one message to the engine (through the transport) and resolves with the engine's answer once committed. */
type Deliver = (m: IncomingMessage) => Promise<string[]>;

async function run(trace: readonly TraceStep[], first: TraceStep, options: ReplayTraceOptions, machineId: string, { starter, ...io }: Omit<StepDeps, 'services' | 'drain'> & { starter: SagaEngine }): Promise<ReplayReport> {
  const { db, engine } = io;
  const def = options.definition;
  const names = def.participants.map((p) => p.name);
  const idOf = options.sagaId ?? ((n: number) => `replay-${n}`);
  // The participants start from the trace's initial shared states (the run's resources).
  const services = new DeciderServices(def, first.keys.length, first.shared);
  const route = effectRouter(def);
  const keys: KeySide[] = first.keys.map((_, i) => ({ index: i, sagaId: idOf(i + 1), queues: Object.fromEntries(names.map((n) => [n, []])), replies: [], seenVersion: 0 }));
  const commands: { sagaId: string; id: string; type: string }[] = [];
  const results: { step: number; action: string; results: string[] }[] = [];
  const divergences: ReplayDivergence[] = [];

  if (starter !== engine) await starter.start();
  for (const [i, o] of keys.entries()) {
    await starter.startSaga(o.sagaId, machineId, options.context ? options.context(o.sagaId, i + 1) : def.context);
  }
  if (starter !== engine) await starter.stop();

  /** Moves the commands the engine committed since the last look into the keys' participant queues; returns what it moved. */
  const drainOutbox = async () => {
    const moved: { queue: QueuedCommand[]; message: QueuedCommand }[] = [];
    for (const o of keys) {
      const saga = await engine.getSaga(o.sagaId);
      if (!saga) continue;
      for (const m of await readStream(db, saga.stream, { fromVersion: o.seenVersion + 1 })) {
        o.seenVersion = m.streamVersion;
        // What the engine logged goes where the wiring routes it: commands (orchestration) or published events (choreography).
        const effect = loggedEffect(m);
        for (const c of effect ? route(effect) : []) {
          const queue = o.queues[c.to];
          if (!queue) throw new TraceStepNotReplayableError(-1, m.type, `the engine sent ${m.type} to ${c.to}, a participant the system definition does not have`);
          const message = { id: m.id, type: c.message, data: c.payload };
          queue.push(message);
          moved.push({ queue, message });
          commands.push({ sagaId: o.sagaId, id: m.id, type: c.message });
        }
      }
    }
    return moved;
  };
  const actualView = async (): Promise<ReplayView> => ({
    shared: Object.fromEntries(Object.keys(first.shared).map((n) => [n, services.shared[n]])),
    keys: await Promise.all(
      keys.map(async (o) => ({
        state: (await engine.getSaga(o.sagaId))?.snapshot.state ?? '(missing)',
        participants: Object.fromEntries(names.map((n) => [n, services.locals[o.index]?.[n] ?? null])),
        inFlight: [...names.flatMap((n) => o.queues[n] ?? []), ...o.replies].map((m) => m.type),
        parked: (await db.query<{ type: string }>(`SELECT message->>'type' AS type FROM ordo_parked_messages WHERE saga_id = $1 ORDER BY id`, [o.sagaId])).rows.map((r) => r.type),
      })),
    ),
  });
  const compare = async (s: TraceStep) => {
    const expected: ReplayView = { shared: s.shared, keys: s.keys };
    const actual = await actualView();
    const differences = diff(expected, actual);
    if (differences.length > 0) divergences.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, differences, expected, actual });
  };

  await drainOutbox();
  await compare(first);
  let steps = 1;
  for (const s of trace.slice(1)) {
    const o = keys[s.order - 1];
    try {
      if (!o) throw new TraceStepNotReplayableError(s.step, s.action, `key ${s.order} is not in the trace's initial state`);
      const out = await applyStep(s, o, { ...io, services, drain: drainOutbox, ...(options.migration ? { migration: options.migration } : {}) });
      if (out.length > 0) results.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, results: out });
      await drainOutbox();
    } catch (e) {
      if (!(e instanceof TraceStepNotReplayableError)) throw e;
      const reason = e.reason;
      const actual = await actualView();
      divergences.push({ step: s.step, action: `${s.actor} ${s.order} ${s.action}`, differences: [reason], expected: { shared: s.shared, keys: s.keys }, actual });
      return { steps, divergences, stoppedAt: { step: s.step, reason }, results, commands, final: actual };
    }
    steps++;
    await compare(s);
  }
  return { steps, divergences, results, commands, final: await actualView() };
}

interface StepDeps {
  readonly migration?: ReplayMigration;
  readonly engine: SagaEngine;
  readonly db: Db;
  readonly clock: VirtualClock;
  readonly services: DeciderServices;
  readonly deliver: Deliver;
  /** Moves what the engine committed into the queues; returns it. */
  readonly drain: () => Promise<{ queue: QueuedCommand[]; message: QueuedCommand }[]>;
}

/** Carries out one model step on the real side; returns the engine's answers (empty for a step that only moves messages). */
async function applyStep(s: TraceStep, o: KeySide, d: StepDeps): Promise<string[]> {
  const def = d.services.definition;
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
  const serve = (participant: string, cmd: QueuedCommand, x: number) => {
    for (const a of d.services.handle(participant, o.index, { type: cmd.type, payload: cmd.data }, x)) o.replies.push(replyTo(cmd, o.sagaId, a));
  };
  const [verb = '', word = ''] = s.action.split(' ');
  const participant = def.participants.find((p) => p.name === s.actor);
  if (participant) {
    const queue = o.queues[participant.name] ?? fail('no queue');
    const cmd = head(queue, participant.name);
    const x = d.services.choiceIndex(participant.name, cmd.type, verb === 'handle' ? undefined : verb);
    if (x < 0) fail(`${participant.name} has no choice "${verb}" for ${cmd.type}`);
    queue.shift();
    serve(participant.name, cmd, x);
    return [];
  }
  if (s.actor === 'crash' && verb === 'relay') {
    // The step itself; its relay published what it committed, crashed before its checkpoint and published it again (same ids, same order).
    const [, actor = '', action = ''] = /after: (\S+) (.+)$/.exec(s.action) ?? fail('no step named after "after:"');
    const out = await applyStep({ ...s, actor, action }, o, d);
    for (const { queue, message } of await d.drain()) queue.push(message);
    return out;
  }
  if (s.actor === 'crash' && verb === def.orchestrator) {
    // The engine committed and crashed before the ack: the reply stays queued, delivered again later (its inbox answers `duplicate`).
    return d.deliver(head(o.replies, 'reply'));
  }
  if (s.actor === 'crash') {
    // The participant handled the command and committed, then crashed before acking: it stays queued.
    const queue = o.queues[verb] ?? fail('unknown participant');
    serve(verb, head(queue, verb), 0);
    return [];
  }
  if (s.actor === 'timer') return [await fireTimer(s, o, d, word, fail)];
  if (s.actor === 'migrator') return [await migrateOne(d, o.sagaId, d.migration ?? fail('the trace migrates, the replay was given no migration'))];
  if (s.actor === 'network') {
    const name = /on (\w+) queue|^reorder (\w+) queue/.exec(s.action);
    const qname = name?.[1] ?? name?.[2] ?? fail('no queue named');
    const q: { type: string }[] = qname === 'replies' ? o.replies : (o.queues[qname] ?? fail(`unknown queue ${qname}`));
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
  if (s.actor === def.orchestrator && verb === 'handle') {
    const reply = head(o.replies, 'reply');
    o.replies.shift();
    return d.deliver(reply);
  }
  if (verb !== 'send' || !def.environment.some((e) => e.event === word && e.actor === s.actor)) return fail(`actor ${s.actor} has no replay for "${s.action}"`);
  if (word === 'CompensationRetried') return [(await d.engine.retryCompensation(o.sagaId)).status];
  const schema = def.machine.eventSchemas[word];
  const payload = schema ? samplePayload(word, schema) : {};
  // The orchestrator's own inputs have one id per key (sent once); the others are one message per step.
  const id = s.actor === def.orchestrator ? `${o.sagaId}/${word}` : `${o.sagaId}/${word}/${s.step}`;
  return d.deliver({ id, key: o.sagaId, type: word, payload });
}

/**
 * Fires exactly the order's timer the trace names: the virtual clock jumps to its
 * deadline while every other timer is moved along by the same amount. The model has
 * no wall-clock time, only the order in which deadlines pass, so no other deadline
 * may pass with this one.
 */
async function fireTimer(s: TraceStep, o: KeySide, d: StepDeps, delay: string, fail: (why: string) => never): Promise<string> {
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
  for (const [name, v] of Object.entries(expected.shared)) {
    if (canonicalJson(v) !== canonicalJson(actual.shared[name])) out.push(`${name} shared: expected ${canonicalJson(v)}, actual ${canonicalJson(actual.shared[name])}`);
  }
  expected.keys.forEach((e, i) => {
    const a = actual.keys[i];
    if (e.state !== a?.state) out.push(`order ${i + 1} state: expected ${e.state}, actual ${String(a?.state)}`);
    for (const [name, v] of Object.entries(e.participants)) {
      const got = a?.participants[name];
      if (canonicalJson(v) !== canonicalJson(got)) out.push(`order ${i + 1} ${name}: expected ${canonicalJson(v)}, actual ${canonicalJson(got)}`);
    }
    const ef = e.inFlight.join(',');
    const af = a?.inFlight.join(',') ?? '';
    if (ef !== af) out.push(`order ${i + 1} in flight: expected [${ef}], actual [${af}]`);
    const ep = e.parked.join(',');
    const ap = a?.parked.join(',') ?? '';
    if (ep !== ap) out.push(`order ${i + 1} parked: expected [${ep}], actual [${ap}]`);
  });
  return out;
}

/** The migrate step, through the production path (`migrateSagas`, one batch of this one saga, the replay's clock). */
async function migrateOne(d: { readonly db: Db; readonly clock: { now(): number } }, sagaId: string, m: ReplayMigration): Promise<string> {
  const report = await migrateSagas(d.db, { migration: m.migration, machines: [m.from, m.to], sagaIds: [sagaId], batchSize: 1, clock: d.clock, operator: 'replay' });
  if (report.failures.length > 0) return `refused: ${report.failures.map((f) => f.reason).join('; ')}`;
  if (report.migrated === 0) return `skipped (not on v${m.from.version})`;
  const row = await d.db.query<{ state: string }>('SELECT state FROM ordo_saga_instances WHERE id = $1', [sagaId]);
  return `migrated to v${m.to.version} (${row.rows[0]?.state ?? '?'})`;
}
