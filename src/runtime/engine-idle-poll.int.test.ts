import { describe, expect, it } from 'vitest';
import { countingDb } from '../testing/counting-db.js';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { sampleOrder } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

const reserved = (id: string, saga: string) => ({ id, key: saga, type: 'InventoryReserved', payload: { reservationId: `res-${saga}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The engine polls for due timers and parked messages (every 100 ms by default). An idle
 * engine's poll is one statement outside any transaction; the work itself runs only when
 * that statement says some is due.
 */
describe.each(['PGlite', 'PostgreSQL server'])('the engine poll on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_idle_poll', prepare);

  async function setup() {
    const d = await fresh();
    // A clock without onAdvance: only the poll fires what becomes due.
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now, forward: (ms: number) => void (now += ms) };
    const { db, counts } = countingDb(d.db);
    const engine = createSagaEngine({ db, machines: [orderMachine], clock, pollIntervalMs: 20, migrate: false, parkedTtlMs: 60_000 });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());
    const one = async (sql: string) => (await d.db.query<{ v: string | null }>(sql)).rows[0]?.v ?? null;
    return { engine, clock, counts, one };
  }

  it('idle, with timers and parked messages not yet due: one statement per poll and no transaction', async () => {
    const { engine, counts } = await setup();
    await engine.startSaga('o1', 'order', sampleOrder('o1')); // its timers are due later
    await engine.deliver([reserved('r-1', 'o1')]); // parked: the state cannot take it yet
    await sleep(100);
    const before = { ...counts };
    await sleep(400);
    const polls = counts.statements - before.statements;
    expect(polls).toBeGreaterThanOrEqual(3); // it polled (every 20 ms, however slow the machine)
    expect(polls).toBeLessThanOrEqual(25);
    expect(counts.transactions - before.transactions).toBe(0);
  });

  it('tries a parked message again, fires a due timer and dead-letters an expired message, from the poll alone', async () => {
    const { engine, clock, one } = await setup();
    await engine.startSaga('o1', 'order', sampleOrder('o1'));
    await engine.startSaga('o2', 'order', sampleOrder('o2'));
    await engine.deliver([{ id: 'o1:created', key: 'o1', type: 'OrderCreated', payload: {} }]);
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('INVENTORY_RESERVING'); // its reservation times out in 30 s
    expect(Number(await one('SELECT count(*)::text AS v FROM ordo_saga_timers'))).toBeGreaterThan(0);
    // o2 cannot take a reservation before it is created; o9 does not exist: both parked.
    await engine.deliver([reserved('r-2', 'o2'), { id: 'o9:created', key: 'o9', type: 'OrderCreated', payload: {} }]);
    const attempts = () => one(`SELECT attempts::text AS v FROM ordo_parked_messages WHERE message_id = 'r-2'`);
    expect(await attempts()).toBe('1');
    clock.forward(1_500); // past the parked message's first retry
    await waitFor(async () => (await attempts()) === '2', 'the parked message tried again by the poll');
    expect((await engine.getSaga('o1'))?.snapshot.state).toBe('INVENTORY_RESERVING');
    clock.forward(30_000); // past the reservation's timeout
    await waitFor(async () => (await engine.getSaga('o1'))?.snapshot.state !== 'INVENTORY_RESERVING', 'the timeout fired by the poll');
    clock.forward(60_000); // past the parked messages' time to live
    await waitFor(async () => (await one(`SELECT error_code AS v FROM ordo_dead_letters WHERE message_id = 'o9:created'`)) === 'SAGA_NOT_FOUND', 'the expired message dead-lettered by the poll');
  });
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
