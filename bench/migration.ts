import { randomBytes } from 'node:crypto';
import { createSagaEngine, migrateSagas, runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from '../src/runtime/index.js';
import { orderMachine } from '../src/shop/index.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../src/shop/order-machine-v2.js';
import { dropPostgresDatabase, ensurePostgresDatabase, migrate, migrateStore, openPostgres, type Db } from '../src/store/index.js';
import { sampleOrder } from '../src/testing/index.js';
import type { BenchOptions } from './bench-options.js';
import { machineDescription, progress, summarise, type BenchResult } from './result.js';

/*
 * `ordo bench migration`: live migration of in-flight order sagas (v1 → v2) with
 * migrateSagas, batch 200, on the PostgreSQL server, against the floor of the same rows
 * moved by raw set-based UPDATEs in batches of 200 (version and snapshot only: no lock
 * of the engine's rows, no timeline record, no timers, no parked messages). p50/p99 are
 * per batch transaction.
 */

const BATCH = 200;

async function v1Instances(db: Db, n: number, prefix: string): Promise<void> {
  const engine = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: false, migrate: false });
  await engine.start();
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(ids.slice(i, i + 500).map((id) => engine.startSaga(id, 'order', sampleOrder(id), { first: { id: `${id}:created`, type: 'OrderCreated' } })));
  }
  await engine.stop();
}

async function rawMove(db: Db, prefix: string, batchMs: number[]): Promise<number> {
  let moved = 0;
  for (;;) {
    const t = performance.now();
    const n = await db.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE ordo_saga_instances i SET machine_version = 2, snapshot = jsonb_set(i.snapshot, '{version}', '2'), revision = i.revision + 1, updated_at = now()
           WHERE i.id IN (SELECT id FROM ordo_saga_instances WHERE machine_version = 1 AND status <> 'final' AND id LIKE $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [`${prefix}%`, BATCH],
      );
      return r.rowCount ?? 0;
    });
    if (n === 0) return moved;
    batchMs.push(performance.now() - t);
    moved += n;
  }
}

export default async function migration(options: BenchOptions): Promise<BenchResult> {
  const name = `ordo_bench_migration_${randomBytes(3).toString('hex')}`;
  const db = openPostgres({ url: await ensurePostgresDatabase(options.postgresUrl, name), max: 4, applicationName: 'ordo-bench-migration' });
  const n = Math.max(200, Math.round(5000 * options.scale));
  try {
    await migrateStore(db);
    await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    progress(`starting ${n} v1 order sagas twice (one set per contender)`);
    await v1Instances(db, n, 'raw-');
    await v1Instances(db, n, 'ordo-');
    progress('raw UPDATE batches');
    let began = performance.now();
    const rawBatches: number[] = [];
    const raw = await rawMove(db, 'raw-', rawBatches);
    const rawRun = summarise('raw UPDATE (version + snapshot), batch 200', raw, (performance.now() - began) / 1000, rawBatches);
    // The raw-moved rows are v2 now: the migration below counts only the ordo- ones.
    progress('migrateSagas');
    began = performance.now();
    const ordoBatches: number[] = [];
    let last = began;
    const onProgress = () => {
      const now = performance.now();
      ordoBatches.push(now - last);
      last = now;
    };
    const report = await migrateSagas(db, { migration: orderMigrationV1toV2, machines: [orderMachineV2, orderMachine], batchSize: BATCH, onProgress });
    const ordoRun = summarise('ordo migrateSagas v1→v2, batch 200', report.migrated, (performance.now() - began) / 1000, ordoBatches, { batches: report.batches });
    return {
      suite: 'migration',
      machine: machineDescription(),
      runs: [ordoRun, rawRun],
      ratios: { migrationVsRawUpdate: rawRun.opsPerSec > 0 ? ordoRun.opsPerSec / rawRun.opsPerSec : 0 },
      notes: [`${n} in-flight order sagas (INVENTORY_RESERVING) per contender, engine idle; ordo also locks, writes the ordo.migrated timeline record, keeps timers, retries parked messages and records the run`],
    };
  } finally {
    await db.close();
    await dropPostgresDatabase(options.postgresUrl, name);
  }
}
