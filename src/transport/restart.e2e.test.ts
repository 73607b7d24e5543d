// Acceptance (issue 7, transports): the broker — nats-server, and the Kafka broker — is
// stopped with the project's command while 1,000 order sagas run through the real saga
// engine (PostgreSQL server), kept down until publishing has failed, and started again with
// the project's command. Engine and services each have their own database and their own
// broker connection, so the broker is the only way between them; an order view with two
// members (one consumer group) reads the sagas' published events. Every saga must finish,
// every side effect happen once, every timeline replay, every key's events arrive once and
// in order, and the outage must be reported. The two brokers run side by side (different
// brokers, different databases). Disruptive to anything else using the local brokers;
// leaves them running.
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Admin } from '@platformatic/kafka';
import { describe, it, type ExpectStatic } from 'vitest';
import { withDelays } from '../machine/index.js';
import { createSagaEngine, subscribeSagaEngine, type SagaEngine, type WorkResult } from '../runtime/index.js';
import { orderMachine } from '../shop/index.js';
import { migrate, migrateStore, startOutboxRelay, type Db, type StructuredLogger } from '../store/index.js';
import { checkSplitOrderOutcomes, freshPostgres, sampleOrder, serveSimulatedServices, SimulatedServices, SIMULATION_MIGRATION_SCOPE, simulationMigrations } from '../testing/index.js';
import { startKafka, startNats, stopKafka, stopNats } from './e2e/brokers.js';
import { createKafkaTransport } from './kafka.js';
import type { TransportLogger } from './logger.js';
import { createNatsTransport } from './nats.js';
import type { DeadLetter, Message, Transport, TransportStatus } from './index.js';

const SAGAS = 1_000;
const PARTITIONS = 16;
const run = randomUUID().slice(0, 8);
// Machine timeouts far beyond the test: a saga can only finish through its messages, so a
// lost one leaves it unfinished instead of being covered by a timeout's compensation.
const machine = withDelays(orderMachine, { reservationTimeout: '10m', paymentTimeout: '10m', compensationTimeout: '10m' });
// Business refusals and transient failures, so compensations and resends cross the broker too.
const faults = { seed: 11, inventory: { refuse: 0.05, transient: 0.05 }, payment: { refuse: 0.05, transient: 0.05 }, shipping: { refuse: 0.05, transient: 0.05 }, compensation: { transient: 0.05 } };
const verbose = process.env['ORDO_RESTART_VERBOSE'] === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// On a busy machine the sagas take minutes; what must never happen is a standstill. Each wait
// gives up only after this long without any progress, not after a fixed time.
const STALL_MS = 60_000;

/** One party's broker connection: what it logged and every status change it reported. */
interface Party {
  readonly name: string;
  readonly lines: string[];
  readonly statuses: TransportStatus[];
  transport?: Transport;
}

const party = (name: string): Party => ({ name, lines: [], statuses: [] });

function loggerOf(p: { name: string; lines: string[] }): TransportLogger & StructuredLogger {
  const push = (fields: object, msg: string) => {
    p.lines.push(msg);
    if (verbose) process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${p.name}: ${msg} ${JSON.stringify(fields)}\n`);
  };
  return { info: push, warn: push, error: push };
}

interface Broker {
  readonly kind: 'nats' | 'kafka';
  connect(p: Party, onDeadLetter: (d: DeadLetter) => void): Promise<Transport>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Which cluster answers (where the broker has such an id): the same one must come back. */
  clusterId?(): Promise<string>;
  cleanup(topics: readonly string[]): Promise<void>;
}

const stream = `ORDO_RESTART_${run}`;
const brokers: Broker[] = [
  {
    kind: 'nats',
    connect: (p, onDeadLetter) =>
      createNatsTransport({ servers: '127.0.0.1:4222', stream, partitions: PARTITIONS, ackWaitMs: 3_000, name: p.name, logger: loggerOf(p), onStatus: (s) => p.statuses.push(s), onDeadLetter }),
    stop: stopNats,
    start: startNats,
    async cleanup() {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    },
  },
  {
    kind: 'kafka',
    connect: (p, onDeadLetter) =>
      createKafkaTransport({
        brokers: ['127.0.0.1:9092'],
        clientId: p.name,
        partitions: PARTITIONS,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        logger: loggerOf(p),
        onStatus: (s) => p.statuses.push(s),
        onDeadLetter,
      }),
    stop: stopKafka,
    start: startKafka,
    async clusterId() {
      const admin = new Admin({ clientId: 'ordo-test-cluster-id', bootstrapBrokers: ['127.0.0.1:9092'] });
      try {
        return (await admin.metadata({ topics: [] })).id;
      } finally {
        await admin.close();
      }
    },
    async cleanup(topics) {
      const admin = new Admin({ clientId: 'ordo-test-cleanup', bootstrapBrokers: ['127.0.0.1:9092'] });
      await admin.deleteTopics({ topics: topics.flatMap((t) => [t, `${t}.dlq`]) }).catch(() => undefined);
      await admin.close();
    },
  },
];

/** The engine's deliver, counting what each delivery came to (duplicate = a redelivery its inbox absorbed). */
function counting(engine: SagaEngine, outcomes: Map<string, number>): Pick<SagaEngine, 'deliver'> {
  return {
    async deliver(messages) {
      const results: WorkResult[] = await engine.deliver(messages);
      for (const r of results) outcomes.set(r.status, (outcomes.get(r.status) ?? 0) + 1);
      return results;
    },
  };
}

async function count(db: Db, sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
}

/** The order view: one consumer group of two members; records each event the first time, in handling order. */
class OrderView {
  readonly seen: Message[] = [];
  readonly ids = new Set<string>();
  duplicates = 0;
  handle = (message: Message): Promise<void> => {
    if (this.ids.has(message.id)) this.duplicates += 1;
    else {
      this.ids.add(message.id);
      this.seen.push(message);
    }
    return Promise.resolve();
  };

  /** Each key's events as seen against the order the engine wrote them: none lost, none extra, in order. */
  async problems(engineDb: Db): Promise<string[]> {
    const written = new Map<string, string[]>();
    const rows = await engineDb.query<{ saga: string; id: string }>(`SELECT metadata->>'key' AS saga, id FROM ordo_messages WHERE metadata->>'kind' = 'event' ORDER BY stream, stream_version`);
    for (const r of rows.rows) written.set(r.saga, [...(written.get(r.saga) ?? []), r.id]);
    const seen = new Map<string, string[]>();
    for (const m of this.seen) seen.set(m.key, [...(seen.get(m.key) ?? []), m.id]);
    const problems: string[] = [];
    for (const [saga, ids] of written) if ((seen.get(saga) ?? []).join(' ') !== ids.join(' ')) problems.push(`${saga}: wrote ${ids.join(' ')}; view saw ${(seen.get(saga) ?? []).join(' ')}`);
    for (const saga of seen.keys()) if (!written.has(saga)) problems.push(`${saga}: view saw events the engine never wrote`);
    return problems.slice(0, 20);
  }
}

async function restartWhileInFlight(broker: Broker, expect: ExpectStatic): Promise<void> {
  const t0 = Date.now();
  const suffix = `${broker.kind}-${run}`;
  const topics = {
    commands: { inventory: `inventory-commands-${suffix}`, payment: `payment-commands-${suffix}`, shipping: `shipping-commands-${suffix}` },
    events: `order-events-${suffix}`,
    replies: `order-replies-${suffix}`,
  };
  const engineDb = await freshPostgres('restart_engine', 10);
  const servicesDb = await freshPostgres('restart_services', 8);
  const parties = { engine: party(`engine-${suffix}`), services: party(`services-${suffix}`), view1: party(`view1-${suffix}`), view2: party(`view2-${suffix}`) };
  const relayLogs = { engine: { name: `engine-relay-${suffix}`, lines: [] as string[] }, services: { name: `services-relay-${suffix}`, lines: [] as string[] } };
  const deadLetters: DeadLetter[] = [];
  const outcomes = new Map<string, number>();
  const view = new OrderView();
  const closers: (() => Promise<unknown>)[] = [];
  try {
    await migrateStore(servicesDb.db);
    await migrate(servicesDb.db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
    for (const p of Object.values(parties)) {
      const t = await broker.connect(p, (d) => void deadLetters.push(d));
      p.transport = t;
      closers.push(() => t.close());
    }
    const [engineT, servicesT, view1T, view2T] = [parties.engine, parties.services, parties.view1, parties.view2].map((p) => p.transport as Transport) as [Transport, Transport, Transport, Transport];

    const engine = createSagaEngine({ db: engineDb.db, machines: [machine], topics: { commands: topics.commands, events: { order: topics.events } }, pollIntervalMs: 50, retry: { initialDelayMs: 50, maxDelayMs: 500 } });
    await engine.start();
    closers.unshift(() => engine.stop());
    const relay = { pollMs: 20, batchSize: 500, backoff: { initialMs: 100, maxMs: 1_000 } };
    const engineRelay = startOutboxRelay({ db: engineDb.db, transport: engineT, name: 'engine-outbox', ...relay, log: loggerOf(relayLogs.engine) });
    closers.unshift(() => engineRelay.stop());
    const services = await serveSimulatedServices({
      db: servicesDb.db,
      transport: servicesT,
      services: new SimulatedServices(faults),
      repliesTopic: topics.replies,
      commandTopics: topics.commands,
      groupPrefix: `sim-${suffix}`,
      relayOptions: { ...relay, log: loggerOf(relayLogs.services) },
    });
    closers.unshift(() => services.close());
    const engineSub = await subscribeSagaEngine(counting(engine, outcomes), engineT, { topic: topics.replies, group: `engine-${suffix}` });
    closers.unshift(() => engineSub.close());
    for (const t of [view1T, view2T]) {
      const sub = await t.subscribe({ topic: topics.events, group: `view-${suffix}`, handler: ({ message }) => view.handle(message) });
      closers.unshift(() => sub.close());
    }
    const ready = Date.now();

    // Place all 1,000 orders; stop the broker once they are moving (as many commands handled
    // as there are sagas, about a third of them), with most sagas still in flight.
    const ids = Array.from({ length: SAGAS }, (_, i) => `r${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      await Promise.all(chunk.map((id) => engine.startSaga(id, 'order', sampleOrder(id, 1 + (i % 3)))));
      await engine.deliver(chunk.map((id) => ({ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} })));
      engineRelay.notify();
    }
    const placed = Date.now();
    for (let handled = services.stats.handled, movedAt = Date.now(); services.stats.handled < SAGAS; await sleep(20)) {
      if (services.stats.handled !== handled) [handled, movedAt] = [services.stats.handled, Date.now()];
      if (Date.now() - movedAt > STALL_MS) throw new Error(`only ${services.stats.handled} commands handled before the outage, none for ${STALL_MS} ms; is the ${broker.kind} broker up?`);
    }
    const inFlightAtStop = await count(engineDb.db, `SELECT count(*)::text AS n FROM ordo_saga_instances WHERE status <> 'final'`);
    const failures = () => engineRelay.stats.failures + services.relay.stats.failures;
    const failuresBefore = failures();
    const clusterBefore = await broker.clusterId?.();
    const stopAt = Date.now();
    await broker.stop();
    // Down for at least 3 s and until an outbox relay has seen a publish fail (at most 20 s).
    const downAt = Date.now();
    while (Date.now() - downAt < 3_000 || (failures() === failuresBefore && Date.now() - downAt < 20_000)) await sleep(100);
    const relayFailuresWhileDown = failures() - failuresBefore;
    const startAt = Date.now();
    await broker.start();
    const upAt = Date.now();
    // Another broker with storage of its own (another checkout's) would have none of the topics.
    expect(await broker.clusterId?.(), 'the broker came back as another cluster: topics and offsets gone').toBe(clusterBefore);

    // Nothing is poked from here on: relays and consumers must resume by themselves.
    const quiet = async () => {
      const open = await count(engineDb.db, `SELECT count(*)::text AS n FROM ordo_saga_instances WHERE status <> 'final'`);
      const events = await count(engineDb.db, `SELECT count(*)::text AS n FROM ordo_messages WHERE metadata->>'kind' = 'event'`);
      const replies = await count(servicesDb.db, `SELECT count(*)::text AS n FROM ordo_messages WHERE stream LIKE 'sim-%'`);
      const received = await count(engineDb.db, `SELECT count(*)::text AS n FROM ordo_inbox WHERE consumer = 'ordo-saga-engine' AND message_id LIKE '%:reply:%'`);
      const seen = view.seen.length;
      return { open, events, seen, replies, received, done: open === 0 && seen >= events && received >= replies };
    };
    let state = await quiet();
    for (let movedAt = Date.now(), saidAt = Date.now(); !state.done && Date.now() - movedAt < STALL_MS; ) {
      await sleep(250);
      const next = await quiet();
      if (JSON.stringify(next) !== JSON.stringify(state)) movedAt = Date.now();
      state = next;
      if (verbose && Date.now() - saidAt > 2_000) {
        saidAt = Date.now();
        process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${broker.kind} +${((Date.now() - upAt) / 1000).toFixed(1)}s after restart: ${JSON.stringify(state)}\n`);
      }
    }
    const finishedAt = Date.now();
    const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    process.stderr.write(
      `${broker.kind} restart: setup ${s(ready - t0)}, placed ${s(placed - ready)}, to stop ${s(stopAt - placed)} (${inFlightAtStop} of ${SAGAS} in flight), ` +
        `stop ${s(downAt - stopAt)}, down ${s(startAt - downAt)}, start ${s(upAt - startAt)}, finished ${s(finishedAt - upAt)} after restart; ${JSON.stringify(state)}; ` +
        `relay failures engine ${engineRelay.stats.failures} services ${services.relay.stats.failures}; engine deliveries ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
        `services handled ${services.stats.handled} + ${services.stats.duplicates} duplicates; view duplicates ${view.duplicates}; ` +
        `disconnects ${Object.values(parties).map((p) => `${p.name.split('-')[0]}=${p.transport?.status().disconnects}`).join(' ')}\n`,
    );
    if (verbose) {
      for (const p of [...Object.values(parties), relayLogs.engine, relayLogs.services]) {
        const counts = new Map<string, number>();
        for (const l of p.lines) counts.set(l, (counts.get(l) ?? 0) + 1);
        process.stderr.write(`${p.name} logged: ${[...counts].map(([l, n]) => `${n}× ${l}`).join(' | ')}\n`);
      }
    }
    expect(state).toMatchObject({ open: 0, done: true });

    // Every saga finished; each side effect once; every command and reply crossed once; timelines replay.
    const report = await checkSplitOrderOutcomes({ engine: engineDb.db, services: servicesDb.db, machine });
    expect(report.violations).toEqual([]);
    expect(report.total).toBe(SAGAS);
    expect(Object.keys(report.byState).sort()).toEqual(['CANCELED', 'DELIVERED']); // the refusals did bite
    expect(await count(engineDb.db, 'SELECT count(*)::text AS n FROM ordo_dead_letters')).toBe(0);
    expect(deadLetters.map((d) => `${d.group} ${d.message.id}: ${d.reason}`)).toEqual([]);
    // Every key's events reached the view once, in the order the saga wrote them, across two members.
    expect(await view.problems(engineDb.db)).toEqual([]);

    // The broker went down while the sagas were in flight, and publishing failed meanwhile.
    expect(inFlightAtStop).toBeGreaterThan(SAGAS / 2);
    expect(relayFailuresWhileDown).toBeGreaterThan(0);
    // The outage was reported: each party's status went down and came back, with a log line each way.
    for (const p of Object.values(parties)) {
      const lost = p.statuses.findIndex((st) => !st.connected);
      expect(lost, `${p.name} never reported the broker down`).toBeGreaterThanOrEqual(0);
      expect(p.statuses.slice(lost).some((st) => st.connected), `${p.name} never reported the broker back`).toBe(true);
      expect(p.transport?.status()).toMatchObject({ connected: true });
      expect(p.lines.some((l) => l.includes('broker unreachable')), p.name).toBe(true);
      expect(p.lines.some((l) => l.includes('connection restored')), p.name).toBe(true);
    }
    // A relay whose publishing failed went on by itself.
    for (const [name, r, log] of [['engine', engineRelay, relayLogs.engine], ['services', services.relay, relayLogs.services]] as const) {
      if (r.stats.failures > 0) expect(log.lines.some((l) => l.includes('succeeded again')), name).toBe(true);
    }
  } finally {
    await broker.start(); // whatever happened, leave the broker running (a no-op when it runs)
    for (const close of closers) await close().catch(() => undefined);
    await broker.cleanup([...Object.values(topics.commands), topics.events, topics.replies]).catch(() => undefined);
    await engineDb.close();
    await servicesDb.close();
  }
}

describe.concurrent('broker restarted while 1,000 sagas are in flight', () => {
  it.for(brokers)(
    '$kind: every saga finishes, each side effect once, timelines and per-key order intact, the outage reported',
    { timeout: 480_000 }, // about 70 s on a quiet machine; the waits inside fail on a standstill
    (broker, { expect }) => restartWhileInFlight(broker, expect),
  );
});
