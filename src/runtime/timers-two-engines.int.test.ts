import { afterEach, describe, expect, it } from 'vitest';
import { withDelays } from '../machine/index.js';
import { migrate, migrateStore } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { freshPostgres, sampleOrder, type FreshDatabase } from '../testing/index.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, type SagaEngine } from './index.js';

const machine = withDelays(orderMachine, { reservationTimeout: '10s', paymentTimeout: '10s', compensationTimeout: '1m' });

/** Several engine processes on one PostgreSQL database, sharing the due timers. */
describe('timers with two engines on one PostgreSQL server', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function setup(orders: number) {
    const d: FreshDatabase = await freshPostgres('runtime_timers');
    cleanup.push(() => d.close());
    await migrateStore(d.db);
    await migrate(d.db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };
    const engine = async (): Promise<SagaEngine> => {
      const e = createSagaEngine({ db: d.db, machines: [machine], clock, pollIntervalMs: false, migrate: false, batchSize: 10 });
      await e.start();
      cleanup.push(() => e.stop());
      return e;
    };
    const a = await engine();
    const b = await engine();
    const ids = Array.from({ length: orders }, (_, i) => `o-${String(i).padStart(4, '0')}`);
    await Promise.all(ids.map((id) => a.startSaga(id, 'order', sampleOrder(id), { first: { id: `${id}:created`, type: 'OrderCreated' } })));
    now += 10_000; // every reservation timeout is due
    /** How often each saga's reservation timeout fired (its timeline). */
    const firings = async () => {
      const r = await d.db.query<{ stream: string; n: string }>(
        `SELECT stream, count(*) FILTER (WHERE type = 'ordo.transition' AND data->'trigger'->>'type' = 'ordo.timer')::text AS n FROM ordo_messages WHERE stream LIKE 'order-o-%' GROUP BY stream`,
      );
      return r.rows.map((row) => Number(row.n));
    };
    return { db: d.db, a, b, ids, firings };
  }

  it('an engine takes the next due timers while another holds the first ones', async () => {
    const { db, a, b, ids, firings } = await setup(60);
    // Engine A is in the middle of a batch: it holds the instances of the 10 earliest timers.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let locked: () => void = () => undefined;
    const lockedNow = new Promise<void>((r) => (locked = r));
    const busy = db.transaction(async (tx) => {
      await tx.query(`SELECT id FROM ordo_saga_instances WHERE id = ANY($1::text[]) FOR UPDATE`, [ids.slice(0, 10)]);
      locked();
      await held;
    });
    await lockedNow;
    let firedBesideA: number;
    try {
      firedBesideA = await b.fireDueTimers();
    } finally {
      release();
      await busy;
    }
    expect(firedBesideA).toBe(50);
    expect(await a.fireDueTimers()).toBe(10);
    expect(await firings()).toEqual(ids.map(() => 1));
  });

  it('two engines firing at once fire every due timer exactly once', async () => {
    const { a, b, ids, firings } = await setup(200);
    const [fa, fb] = await Promise.all([a.fireDueTimers(), b.fireDueTimers()]);
    expect(fa + fb).toBe(200);
    expect(await firings()).toEqual(ids.map(() => 1));
    expect(await a.fireDueTimers()).toBe(0);
  });
});
