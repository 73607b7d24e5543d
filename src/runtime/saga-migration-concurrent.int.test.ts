import { describe, expect, it } from 'vitest';
import { aggregateStream, deciderFromMachine } from '../eventsourcing/index.js';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../shop/order-machine-v2.js';
import { sampleOrder } from '../testing/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, type SagaEngine } from './index.js';

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
}

const N = 120;
const ids = Array.from({ length: N }, (_, i) => `o${String(i).padStart(3, '0')}`);
/** What each participant answers in each waiting state (both versions). */
const reply: Record<string, [string, Record<string, unknown>]> = {
  INVENTORY_RESERVING: ['InventoryReserved', { reservationId: 'r' }],
  FRAUD_CHECKING: ['FraudCleared', {}],
  PAYMENT_PROCESSING: ['PaymentApproved', { paymentId: 'p' }],
  PREPARING_SHIPMENT: ['PackageShipped', { trackingNumber: 't' }],
  SHIPPED: ['DeliveryConfirmed', {}],
};

/** Answers every waiting instance, round after round, until all are finished (each answer taken); false if some never finish. */
async function pump(db: Db, engine: SagaEngine, between?: () => Promise<void>): Promise<boolean> {
  for (let round = 1; round < 20; round++) {
    const open = await db.query<{ id: string; state: string }>(`SELECT id, state FROM ordo_saga_instances WHERE status <> 'final' ORDER BY id`);
    if (open.rows.length === 0) return true;
    const messages = open.rows.flatMap((r) => {
      const answer = reply[r.state];
      return answer ? [{ id: `${r.id}:${answer[0]}`, key: r.id, type: answer[0], payload: answer[1] }] : [];
    });
    const results = await engine.deliver(messages);
    if (between) await between();
    else for (const result of results) expect(['applied', 'duplicate']).toContain(result.status);
  }
  return false;
}

/** One source of truth: each instance's stream, replayed across versions, gives its snapshot. */
async function disagreements(db: Db): Promise<string[]> {
  const decider = deciderFromMachine(orderMachineV2, { versions: [orderMachine] });
  const rows = await db.query<{ id: string; state: string; machine_version: number }>('SELECT id, state, machine_version FROM ordo_saga_instances ORDER BY id');
  const out: string[] = [];
  for (const r of rows.rows) {
    const folded = (await aggregateStream(db, decider, `order-${r.id}`)).state;
    if (folded?.state !== r.state || folded.version !== Number(r.machine_version)) out.push(`${r.id}: row ${r.state}@v${r.machine_version}, stream ${folded?.state}@v${folded?.version}`);
  }
  return out;
}

describe.each(['PGlite', 'PostgreSQL server'])('migrating while the engine works on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'runtime_migration_busy', prepare);

  async function v1Instances(db: Db): Promise<void> {
    const v1 = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: false, migrate: false });
    await v1.start();
    for (const id of ids) await v1.startSaga(id, 'order', sampleOrder(id), { first: { id: `${id}:created`, type: 'OrderCreated' } });
    // A third a step further on: payment under way.
    await v1.deliver(ids.filter((_, i) => i % 3 === 0).map((id) => ({ id: `${id}:InventoryReserved`, key: id, type: 'InventoryReserved', payload: { reservationId: 'r' } })));
    await v1.stop();
  }

  it('an engine migrating at start loses nothing: every instance finishes, and its stream agrees with its row', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    await v1Instances(d.db);
    const engine = createSagaEngine({ db: d.db, machines: [orderMachineV2, orderMachine], migrations: [orderMigrationV1toV2], migrateOnStart: true, migrationBatchSize: 5, pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => engine.stop());
    expect(await pump(d.db, engine)).toBe(true);
    const [report] = await engine.migrations();
    expect(report).toMatchObject({ status: 'finished', failed: 0, remaining: 0 });
    const finals = await d.db.query<{ state: string; machine_version: number; n: string }>(`SELECT state, machine_version, count(*)::text AS n FROM ordo_saga_instances GROUP BY 1, 2`);
    expect(finals.rows.every((r) => r.state === 'DELIVERED')).toBe(true);
    expect(finals.rows.reduce((s, r) => s + Number(r.n), 0)).toBe(N);
    // Migrated ones are on v2; those the engine finished first stayed on v1.
    const onV2 = finals.rows.filter((r) => Number(r.machine_version) === 2).reduce((s, r) => s + Number(r.n), 0);
    expect(onV2).toBe(report?.migrated);
    expect(await disagreements(d.db)).toEqual([]);
    for (const table of ['ordo_dead_letters', 'ordo_parked_messages']) expect((await d.db.query(`SELECT 1 FROM ${table}`)).rows, table).toEqual([]);
  });

  it('(mutant) a migration that writes snapshots read outside the lock loses the engine’s progress, and the check sees it', async () => {
    const d = await fresh();
    cleanup(() => d.close());
    await v1Instances(d.db);
    const engine = createSagaEngine({ db: d.db, machines: [orderMachineV2, orderMachine], pollIntervalMs: false, migrate: false });
    await engine.start();
    cleanup(() => engine.stop());
    const stale = await d.db.query<{ id: string; snapshot: Record<string, unknown> }>('SELECT id, snapshot FROM ordo_saga_instances');
    let once = false;
    const naive = async () => {
      if (once) return;
      once = true;
      for (const r of stale.rows) {
        await d.db.query(`UPDATE ordo_saga_instances SET machine_version = 2, snapshot = $2::text::jsonb WHERE id = $1`, [r.id, JSON.stringify({ ...r.snapshot, version: 2 })]);
      }
    };
    expect(await pump(d.db, engine, naive)).toBe(false);
    expect((await disagreements(d.db)).length).toBeGreaterThan(0);
  });
});
