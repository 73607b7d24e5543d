import { describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db, type Queryable } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { sampleOrder, VirtualClock } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { seqTuplesReadBy } from '../testing/table-reads.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './index.js';

/*
 * A batch touches its own sagas' rows, found by index, however many other sagas wait: a
 * sequential scan in a batch statement costs every batch time in proportion to everything
 * stored (the timer deletion once read every saga's timers). Each batch's transaction reports
 * what it read by sequential scan before it commits.
 */

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

/** `db` whose transactions commit only after noting the rows they read by sequential scan, per table. */
function readingDb(db: Db, noted: Map<string, number>[]): Db {
  return {
    ...db,
    transaction: (fn) =>
      db.transaction(async (tx) => {
        const own: Queryable = {
          query: (sql, params) => tx.query(sql, params),
          ...(tx.exec ? { exec: (sql: string) => tx.exec!(sql) } : {}),
          // Without the commit: the reads are looked at after the function, in the same transaction.
          ...(tx.batch ? { batch: (statements) => tx.batch!(statements) } : {}),
        };
        const { result, reads } = await seqTuplesReadBy(tx, () => fn(own));
        noted.push(reads);
        return result;
      }),
  };
}

const OTHERS = 20_000;

describe.each(['PGlite', 'PostgreSQL server'])('a saga batch among many waiting sagas on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_scans', prepare);

  it(`reads by index, not through the ${OTHERS} other sagas' rows`, async () => {
    const d = await fresh();
    // Other sagas waiting, each with a timer, as a busy shop has them; analysed, as autovacuum would.
    await d.db.query(
      `INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, revision, stream_version)
       SELECT 'other-' || g, 'order', 1, 'PAYMENT_PROCESSING', 'active', '{}', 1, 1 FROM generate_series(1, ${OTHERS}) g`,
    );
    await d.db.query(`INSERT INTO ordo_saga_timers (saga_id, timer_id, kind, purpose, due_at) SELECT 'other-' || g, 'PAYMENT_PROCESSING/paymentTimeout#1', 'machine', 'fire', 9000000000000 FROM generate_series(1, ${OTHERS}) g`);
    await d.db.query('ANALYZE ordo_saga_instances, ordo_saga_timers');
    const noted: Map<string, number>[] = [];
    const engine = createSagaEngine({ db: readingDb(d.db, noted), machines: [orderMachine], clock: new VirtualClock(), pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());

    await engine.startSaga('o1', 'order', sampleOrder('o1'), { first: { id: 'o1:created', type: 'OrderCreated' } });
    // Leaves INVENTORY_RESERVING: its timer is cancelled and the next state's set.
    const results = await engine.deliver([{ id: 'r-o1', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'res-o1' } }]);
    expect(results).toMatchObject([{ status: 'applied', state: 'PAYMENT_PROCESSING' }]);
    const timers = await d.db.query<{ timer_id: string }>("SELECT timer_id FROM ordo_saga_timers WHERE saga_id = 'o1'");
    expect(timers.rows.map((t) => t.timer_id)).toEqual([expect.stringMatching(/^PAYMENT_PROCESSING\//)]);

    expect(noted.length).toBeGreaterThanOrEqual(2);
    for (const reads of noted) {
      expect(reads.get('ordo_saga_timers') ?? 0).toBeLessThan(100);
      expect(reads.get('ordo_saga_instances') ?? 0).toBeLessThan(100);
    }
  });

  it(`fires thousands of timers due at once (after downtime) by index, not through the ${OTHERS} other sagas' rows`, async () => {
    const d = await fresh();
    const engine = createSagaEngine({ db: d.db, machines: [orderMachine], clock: new VirtualClock(), pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => d.close(), () => engine.stop());
    // One real saga waiting for its payment; 2,000 copies of it overdue (their streams start
    // empty) beside 20,000 that wait for tomorrow, analysed.
    await engine.startSaga('o1', 'order', sampleOrder('o1'), { first: { id: 'o1:created', type: 'OrderCreated' } });
    await engine.deliver([{ id: 'r-o1', key: 'o1', type: 'InventoryReserved', payload: { reservationId: 'res-o1' } }]);
    const copy = (prefix: string, n: number, dueAt: string) =>
      d.db.query(
        `WITH c AS (INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, pending, revision, stream_version)
           SELECT '${prefix}-' || g, machine_id, machine_version, state, status, snapshot, pending, revision, 0 FROM ordo_saga_instances, generate_series(1, ${n}) g WHERE id = 'o1' RETURNING id)
         INSERT INTO ordo_saga_timers (saga_id, timer_id, kind, purpose, due_at) SELECT c.id, t.timer_id, t.kind, t.purpose, ${dueAt} FROM c, ordo_saga_timers t WHERE t.saga_id = 'o1'`,
      );
    await copy('late', 2_000, '0');
    await copy('later', OTHERS, '9000000000000');
    await d.db.query('ANALYZE ordo_saga_instances, ordo_saga_timers');
    const noted: Map<string, number>[] = [];
    const reading = createSagaEngine({ db: readingDb(d.db, noted), machines: [orderMachine], clock: new VirtualClock(), pollIntervalMs: false, migrate: false });
    await reading.start();
    cleanup(() => reading.stop());

    expect(await reading.fireDueTimers()).toBe(2_000);
    const left = await d.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_timers WHERE due_at < 9000000000000 AND saga_id LIKE 'late-%' AND timer_id LIKE 'PAYMENT_PROCESSING/%'`);
    expect(left.rows[0]?.n).toBe(0);
    expect(noted.length).toBeGreaterThanOrEqual(10); // 200 sagas per batch
    for (const reads of noted) expect(reads.get('ordo_saga_instances') ?? 0).toBeLessThan(100);
  });
});
