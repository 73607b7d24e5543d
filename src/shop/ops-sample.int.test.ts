import { describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db } from '../store/index.js';
import { runtimeMigrations, RUNTIME_MIGRATION_SCOPE, retentionMigrations, RETENTION_MIGRATION_SCOPE } from '../runtime/index.js';
import { databasePerTest } from '../testing/suite-database.js';
import { seqTuplesReadBy } from '../testing/table-reads.js';
import { opsSample } from './ops-views.js';

/*
 * The dashboard samples the last minute every few seconds, whoever watches: with a million
 * finished sagas kept (retention), reading every instance at each sample was a sequential
 * scan of them all. It reads the instances changed in the last minute, by index.
 */

async function prepare(db: Db): Promise<void> {
  await migrateStore(db);
  await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
  await migrate(db, retentionMigrations, RETENTION_MIGRATION_SCOPE);
}

const KEPT = 20_000;

describe.each(['PGlite', 'PostgreSQL server'])('the ops sample of the last minute on %s', (name) => {
  const { fresh, cleanup } = databasePerTest(name, 'shop_ops_sample', prepare);

  it(`counts the minute's sagas without reading the ${KEPT} older ones`, async () => {
    const d = await fresh();
    cleanup(() => d.close());
    const insert = (ids: string, status: string, createdAgo: string, updatedAgo: string) =>
      d.db.query(
        `INSERT INTO ordo_saga_instances (id, machine_id, machine_version, state, status, snapshot, revision, stream_version, created_at, updated_at)
         SELECT 'o-' || g, 'order', 1, CASE WHEN $1 = 'final' THEN 'DELIVERED' ELSE 'PAYMENT_PROCESSING' END, $1, '{}', 1, 1, now() - $2::interval, now() - $3::interval
         FROM ${ids} g`,
        [status, createdAgo, updatedAgo],
      );
    // Kept from earlier: finished an hour ago, or waiting unchanged for ten minutes.
    await insert(`generate_series(1, ${KEPT - 1000})`, 'final', '2 hours', '1 hour');
    await insert(`generate_series(${KEPT - 999}, ${KEPT})`, 'active', '20 minutes', '10 minutes');
    // This minute: two started (one already finished in 2 s), one started before and finished now.
    await insert(`generate_series(${KEPT + 1}, ${KEPT + 1})`, 'active', '10 seconds', '5 seconds');
    await insert(`generate_series(${KEPT + 2}, ${KEPT + 2})`, 'final', '20 seconds', '18 seconds');
    await insert(`generate_series(${KEPT + 3}, ${KEPT + 3})`, 'final', '5 minutes', '1 second');
    await d.db.query('ANALYZE ordo_saga_instances');

    const { result: sample, reads } = await d.db.transaction((tx) => seqTuplesReadBy(tx, () => opsSample({ orders: { ...d.db, query: (sql, params) => tx.query(sql, params) } }, 'order')));
    expect(sample).toMatchObject({ startedPerMinute: 2, finishedPerMinute: 2 });
    expect(sample.latency.p50).toBe(150.5); // the median of 2 s and 299 s
    expect(reads.get('ordo_saga_instances') ?? 0).toBeLessThan(100);
  });
});
