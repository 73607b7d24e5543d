import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBatchWritesContract } from './batch-writes.contract.js';
import { describeGlobalOrderContract } from './global-order.contract.js';
import { describeOutboxRelayContract } from './outbox-relay.contract.js';
import { describeRetentionContract } from './retention.contract.js';
import { expectNotMigrated } from './contract-support.js';
import { describeStatementBatchContract } from './statement-batch.contract.js';
import { describeStoreContract } from './store.contract.js';
import { appendToStream, globalPositionOf, LOG_START, migrateStore, openPglite, readAll, storeMigrations } from './index.js';
import { freshPglite, type FreshDatabase } from '../testing/fresh-database.js';

// PGlite has one connection: transactions run one after another, so the race tests of the server do not apply.
const embedded = { concurrentTransactions: false };
// Starting PGlite is the slow part (WASM + initdb): the three suites share one instance.
let instance: Promise<FreshDatabase> | undefined;
const shared = async (): Promise<FreshDatabase> => {
  instance ??= freshPglite();
  return { db: (await instance).db, close: () => Promise.resolve() };
};
afterAll(async () => {
  if (instance) await (await instance).close();
});
describeStoreContract('PGlite (in memory)', shared, embedded, null); // not-migrated: tested below with the data directory
describeGlobalOrderContract('PGlite (in memory)', shared, embedded);
describeOutboxRelayContract('PGlite (in memory)', shared, embedded);
describeStatementBatchContract('PGlite (in memory)', shared);
describeBatchWritesContract('PGlite (in memory)', shared, embedded);
describeRetentionContract('PGlite (in memory)', freshPglite); // its own database: other suites' checkpoints would hold its streams

describe('PGlite with a data directory', () => {
  it('keeps the log across a reopen, and new messages still sort after the checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordo-pglite-'));
    try {
      let checkpoint = LOG_START;
      for (let life = 1; life <= 2; life++) {
        const db = await openPglite({ dataDir: dir });
        if (life === 1) await expectNotMigrated(db);
        expect((await migrateStore(db)).applied).toEqual(life === 1 ? storeMigrations.map((m) => m.version) : []);
        await appendToStream(db, 'order-1', life - 1, [{ type: 'Life', data: life }]);
        const fresh = await readAll(db, checkpoint, 10);
        expect(fresh.map((m) => m.data)).toEqual([life]); // never skipped because transaction ids restarted
        checkpoint = globalPositionOf(fresh[0]!);
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000); // two PGlite starts: seconds each on a busy machine
});
