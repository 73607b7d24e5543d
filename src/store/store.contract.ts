import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from './db.js';
import {
  DuplicateMessageIdError,
  ExpectedVersionConflictError,
  InvalidStoreInputError,
  MigrationError,
  LOG_START,
  appendToStream,
  appendToStreams,
  globalPositionOf,
  handleOnce,
  lastGlobalPosition,
  loadCheckpoint,
  migrate,
  migrateStore,
  readAll,
  readStream,
  recordInbox,
  saveCheckpoint,
  streamVersion,
  type GlobalPosition,
} from './index.js';
import { expectNotMigrated, migratedForSuite, olderTransaction, readAllUntil, rejection, uniqueStream, type ContractDatabase, type EngineCapabilities } from './contract-support.js';

/**
 * The store's contract, run against every engine. `open` gives a database (it may already
 * hold other tests' rows: every test uses its own streams and names); `openEmpty` one on
 * which migrateStore has never run (`null`: the caller tests that itself). Engines with
 * concurrent transactions (the server) also get the tests that need them.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<ContractDatabase>,
  engine: EngineCapabilities,
  openEmpty: (() => Promise<ContractDatabase>) | null = open,
): void {
  describe(`store contract: ${name}`, () => {
    let db: Db;
    migratedForSuite(open, (d) => (db = d));

    describe('migrations', () => {
      it('applies each version once and is idempotent, also when started twice at once', async () => {
        expect((await migrateStore(db)).applied).toEqual([]);
        const ms = [
          { version: 2, name: 'second', sql: 'ALTER TABLE m_test ADD COLUMN b int; CREATE INDEX m_test_b ON m_test (b)' },
          { version: 1, name: 'first', sql: 'CREATE TABLE m_test (a int); INSERT INTO m_test (a) VALUES (1)' },
        ];
        const [r1, r2] = await Promise.all([migrate(db, ms, 'm_test'), migrate(db, ms, 'm_test')]);
        expect([r1.applied, r2.applied].sort((a, b) => b.length - a.length)).toEqual([[1, 2], []]);
        expect((await migrate(db, ms, 'm_test')).applied).toEqual([]);
        const rows = await db.query<{ a: number }>('SELECT a, b FROM m_test');
        expect(rows.rows).toEqual([{ a: 1, b: null }]);
        const recorded = await db.query<{ version: number; name: string }>("SELECT version, name FROM ordo_migrations WHERE scope = 'm_test' ORDER BY version");
        expect(recorded.rows).toEqual([
          { version: 1, name: 'first' },
          { version: 2, name: 'second' },
        ]);
        // A new version is applied on top.
        expect((await migrate(db, [...ms, { version: 3, name: 'third', sql: 'ALTER TABLE m_test ADD COLUMN c int' }], 'm_test')).applied).toEqual([3]);
      });

      it('rolls a failing migration back entirely and refuses reused or malformed versions', async () => {
        const bad = [
          { version: 1, name: 'ok', sql: 'CREATE TABLE m_fail (a int)' },
          { version: 2, name: 'broken', sql: 'ALTER TABLE m_fail ADD COLUMN oops nosuchtype' },
        ];
        await expect(migrate(db, bad, 'm_fail')).rejects.toThrow();
        const exists = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'm_fail'");
        expect(exists.rows).toHaveLength(0);
        expect((await db.query("SELECT 1 FROM ordo_migrations WHERE scope = 'm_fail'")).rows).toHaveLength(0);

        await migrate(db, [{ version: 1, name: 'one', sql: 'CREATE TABLE m_named (a int)' }], 'm_named');
        const renamed = await rejection(migrate(db, [{ version: 1, name: 'renamed', sql: 'SELECT 1' }], 'm_named'));
        expect(renamed).toBeInstanceOf(MigrationError);
        expect(renamed).toMatchObject({ code: 'MIGRATION', version: 1, retryable: false });
        await expect(migrate(db, [{ version: 0, name: 'zero', sql: 'SELECT 1' }], 'x')).rejects.toThrow(MigrationError);
        await expect(
          migrate(
            db,
            [
              { version: 1, name: 'a', sql: 'SELECT 1' },
              { version: 1, name: 'b', sql: 'SELECT 1' },
            ],
            'x',
          ),
        ).rejects.toThrow(/listed twice/);
      });
    });

    describe('message log', () => {
      it('appends a batch and reads it back in stream order with every field', async () => {
        const s = uniqueStream('order');
        const id = randomUUID();
        const r = await db.transaction((tx) =>
          appendToStream(tx, s, 'no_stream', [
            { id, type: 'OrderCreated', data: { items: [{ sku: 'a', quantity: 2 }] }, metadata: { correlationId: 'o1', topic: 'orders' } },
            { type: 'InventoryReserved', data: { reservationId: 'r1' } },
            { type: 'Empty', data: undefined },
          ]),
        );
        expect(r.nextExpectedVersion).toBe(3);
        expect(r.positions).toHaveLength(3);
        expect(r.positions[0]! < r.positions[1]! && r.positions[1]! < r.positions[2]!).toBe(true);
        const read = await readStream(db, s);
        expect(read.map((m) => [m.streamVersion, m.type])).toEqual([
          [1, 'OrderCreated'],
          [2, 'InventoryReserved'],
          [3, 'Empty'],
        ]);
        const first = read[0]!;
        expect(first).toMatchObject({ id, stream: s, data: { items: [{ sku: 'a', quantity: 2 }] }, metadata: { correlationId: 'o1', topic: 'orders' } });
        expect(first.position).toBe(r.positions[0]);
        expect(typeof first.txId).toBe('bigint');
        expect(read.every((m) => m.txId === first.txId)).toBe(true);
        expect(first.createdAt).toBeInstanceOf(Date);
        expect(read[1]!.metadata).toEqual({});
        expect(read[2]!.data).toBeNull();
        expect(read[1]!.id).toMatch(/^[0-9a-f-]{36}$/);

        expect(await streamVersion(db, s)).toBe(3);
        expect(await streamVersion(db, uniqueStream())).toBe(0);
        expect((await readStream(db, s, { fromVersion: 2 })).map((m) => m.streamVersion)).toEqual([2, 3]);
        expect((await readStream(db, s, { fromVersion: 2, limit: 1 })).map((m) => m.streamVersion)).toEqual([2]);
        expect(await readStream(db, uniqueStream())).toEqual([]);
        // Newest first: the last message in one read, or down from a version.
        expect((await readStream(db, s, { direction: 'backwards', limit: 1 })).map((m) => m.streamVersion)).toEqual([3]);
        expect((await readStream(db, s, { direction: 'backwards', fromVersion: 2 })).map((m) => m.streamVersion)).toEqual([2, 1]);
        expect(await readStream(db, uniqueStream(), { direction: 'backwards', limit: 1 })).toEqual([]);
        await expect(readStream(db, s, { direction: 'sideways' as 'forwards' })).rejects.toMatchObject({ field: 'direction' });

        const more = await appendToStream(db, s, 3, [{ type: 'PaymentRequested', data: {} }]);
        expect(more.nextExpectedVersion).toBe(4);
        expect((await appendToStream(db, s, 'any', [{ type: 'Note', data: 1 }])).nextExpectedVersion).toBe(5);
        expect(await appendToStream(db, s, 5, [])).toEqual({ nextExpectedVersion: 5, positions: [] });
      });

      it('rejects a wrong expected version with a typed, retryable error and writes nothing', async () => {
        const s = uniqueStream();
        await appendToStream(db, s, 0, [
          { type: 'A', data: 1 },
          { type: 'B', data: 2 },
        ]);
        for (const expected of [0, 1, 3, 'no_stream'] as const) {
          const err = await rejection(db.transaction((tx) => appendToStream(tx, s, expected, [{ type: 'C', data: 3 }])));
          expect(err).toBeInstanceOf(ExpectedVersionConflictError);
          expect(err).toMatchObject({ code: 'EXPECTED_VERSION_CONFLICT', retryable: true, stream: s, expected, actual: 2, reason: 'version' });
        }
        const err = await rejection(appendToStream(db, s, 1, []));
        expect(err).toMatchObject({ code: 'EXPECTED_VERSION_CONFLICT', actual: 2 });
        expect(await streamVersion(db, s)).toBe(2);
        // Conflict inside a larger transaction rolls the whole transaction back.
        const other = uniqueStream();
        await expect(
          db.transaction(async (tx) => {
            await appendToStream(tx, other, 0, [{ type: 'X', data: null }]);
            await appendToStream(tx, s, 0, [{ type: 'C', data: 3 }]);
          }),
        ).rejects.toBeInstanceOf(ExpectedVersionConflictError);
        expect(await streamVersion(db, other)).toBe(0);
      });

      it('lets exactly one of many concurrent appends with the same expected version win', async () => {
        const s = uniqueStream();
        await appendToStream(db, s, 0, [{ type: 'Start', data: null }]);
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            db.transaction(async (tx) => {
              const r = await appendToStream(tx, s, 1, [
                { type: 'Racer', data: i },
                { type: 'Racer', data: i },
              ]);
              // Hold the transaction a moment so the losers really wait on the winner's row.
              await new Promise((res) => setTimeout(res, 5));
              return r;
            }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(7);
        for (const l of lost) {
          expect(l.reason).toBeInstanceOf(ExpectedVersionConflictError);
          expect(l.reason).toMatchObject({ stream: s, expected: 1, retryable: true });
        }
        const read = await readStream(db, s);
        expect(read.map((m) => m.streamVersion)).toEqual([1, 2, 3]);
        expect(new Set(read.slice(1).map((m) => m.data)).size).toBe(1);
      });

      it("serialises concurrent 'any' appends to one stream instead of failing them", async () => {
        const s = uniqueStream();
        await Promise.all(Array.from({ length: 10 }, (_, i) => db.transaction((tx) => appendToStream(tx, s, 'any', [{ type: 'Any', data: i }]))));
        expect((await readStream(db, s)).map((m) => m.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      it('refuses a message id already in the log, and bad input, with typed errors', async () => {
        const s = uniqueStream();
        const id = randomUUID();
        await appendToStream(db, s, 0, [{ id, type: 'A', data: null }]);
        const dup = await rejection(appendToStream(db, uniqueStream(), 0, [{ id, type: 'A', data: null }]));
        expect(dup).toBeInstanceOf(DuplicateMessageIdError);
        expect(dup).toMatchObject({ code: 'DUPLICATE_MESSAGE_ID', retryable: false });
        const cases: [string, () => Promise<unknown>][] = [
          ['stream', () => appendToStream(db, '', 0, [{ type: 'A', data: 1 }])],
          ['expectedVersion', () => appendToStream(db, s, -1, [{ type: 'A', data: 1 }])],
          ['expectedVersion', () => appendToStream(db, s, 1.5, [{ type: 'A', data: 1 }])],
          ['messages[0].type', () => appendToStream(db, s, 1, [{ type: '', data: 1 }])],
          ['messages[1].id', () => appendToStream(db, s, 1, [{ id: 'x', type: 'A', data: 1 }, { id: 'x', type: 'A', data: 1 }])],
          ['messages', () => appendToStream(db, s, 1, [{ type: 'A', data: 10n }])],
          // JSON has no text for a function: refused here, not stored as a missing value.
          ['messages', () => appendToStream(db, s, 1, [{ type: 'A', data: () => 1 }])],
          ['messages', () => appendToStreams(db, [{ stream: s, expectedVersion: 1, messages: [{ type: 'A', data: 10n }] }])],
          ['after', () => readAll(db, { txId: 1, position: 2 } as unknown as GlobalPosition, 10)],
          ['limit', () => readAll(db, LOG_START, 0)],
        ];
        for (const [field, call] of cases) {
          const err = await rejection(Promise.resolve().then(call));
          expect(err, field).toBeInstanceOf(InvalidStoreInputError);
          expect(err).toMatchObject({ code: 'INVALID_STORE_INPUT', field });
        }
        expect(await streamVersion(db, s)).toBe(1);
      });

      it('reads the whole log in global order, page by page, each message once', async () => {
        const from = await lastGlobalPosition(db);
        const streams = [uniqueStream('a'), uniqueStream('b'), uniqueStream('c')];
        const versions = new Map<string, number>();
        const written: string[] = [];
        for (let i = 0; i < 30; i++) {
          const s = streams[i % 3]!;
          const v = versions.get(s) ?? 0;
          const batch = Array.from({ length: (i % 4) + 1 }, (_, j) => ({ id: randomUUID(), type: 'E', data: { i, j } }));
          await db.transaction((tx) => appendToStream(tx, s, v, batch));
          versions.set(s, v + batch.length);
          written.push(...batch.map((m) => m.id));
        }
        const read = await readAllUntil(db, from, written.length, 7);
        expect(read.map((m) => m.id)).toEqual(written); // one writer: global order = commit order
        for (let i = 1; i < read.length; i++) {
          const a = read[i - 1]!;
          const b = read[i]!;
          expect(a.txId < b.txId || (a.txId === b.txId && a.position < b.position)).toBe(true);
        }
        expect(await readAll(db, globalPositionOf(read[read.length - 1]!), 10)).toEqual([]);
      });

      it.runIf(engine.concurrentTransactions)('refuses an append that would put a stream out of global order (older transaction id)', async () => {
        const s = uniqueStream();
        const b = olderTransaction(db, (tx) => appendToStream(tx, s, 1, [{ type: 'FromB', data: null }]));
        await b.idTaken;
        await db.transaction((tx) => appendToStream(tx, s, 0, [{ type: 'FromA', data: null }]));
        b.proceed();
        const err = await rejection(b.result);
        expect(err).toBeInstanceOf(ExpectedVersionConflictError);
        expect(err).toMatchObject({ reason: 'transaction-order', actual: 1, retryable: true });
        // The retry in a fresh transaction succeeds, and stream order equals global order.
        await db.transaction((tx) => appendToStream(tx, s, 1, [{ type: 'FromB', data: null }]));
        const read = await readStream(db, s);
        expect(read.map((m) => m.type)).toEqual(['FromA', 'FromB']);
        expect(read[0]!.txId < read[1]!.txId).toBe(true);
      });
    });

    it.runIf(openEmpty !== null)('says clearly when the store was not migrated', async () => {
      const other = await openEmpty!();
      try {
        await expectNotMigrated(other.db);
      } finally {
        await other.close();
      }
    });

    describe('checkpoints', () => {
      it('starts at the beginning, and saves and overwrites positions including large values', async () => {
        const name = `cp-${randomUUID()}`;
        expect(await loadCheckpoint(db, name)).toEqual(LOG_START);
        await db.transaction((tx) => saveCheckpoint(tx, name, { txId: 123n, position: 45n }));
        expect(await loadCheckpoint(db, name)).toEqual({ txId: 123n, position: 45n });
        const big = { txId: 2n ** 40n + 7n, position: 2n ** 53n + 1n };
        await saveCheckpoint(db, name, big);
        expect(await loadCheckpoint(db, name)).toEqual(big);
        // Rolled back with the transaction that saved it.
        await expect(
          db.transaction(async (tx) => {
            await saveCheckpoint(tx, name, { txId: 1n, position: 1n });
            throw new Error('handler failed');
          }),
        ).rejects.toThrow('handler failed');
        expect(await loadCheckpoint(db, name)).toEqual(big);
      });
    });

    describe('inbox', () => {
      it('tells the first delivery from duplicates, per consumer', async () => {
        const id = randomUUID();
        expect(await db.transaction((tx) => recordInbox(tx, 'payment', id))).toBe(true);
        expect(await db.transaction((tx) => recordInbox(tx, 'payment', id))).toBe(false);
        expect(await recordInbox(db, 'shipping', id)).toBe(true);
        await expect(recordInbox(db, '', id)).rejects.toBeInstanceOf(InvalidStoreInputError);
      });

      it('runs the handler once; a failed handler leaves no record so it runs again', async () => {
        const id = randomUUID();
        let runs = 0;
        await expect(
          handleOnce(db, 'inventory', id, () => {
            runs++;
            return Promise.reject(new Error('boom'));
          }),
        ).rejects.toThrow('boom');
        const first = await handleOnce(db, 'inventory', id, () => Promise.resolve(++runs));
        expect(first).toEqual({ duplicate: false, result: 2 });
        const again = await handleOnce(db, 'inventory', id, () => Promise.resolve(++runs));
        expect(again).toEqual({ duplicate: true });
        expect(runs).toBe(2);
      });

      it('runs the handler once when the same message is delivered concurrently', async () => {
        const id = randomUUID();
        const s = uniqueStream('effects');
        const results = await Promise.all(
          Array.from({ length: 6 }, () =>
            handleOnce(db, 'concurrent', id, async (tx) => {
              await appendToStream(tx, s, 'any', [{ type: 'Effect', data: null }]);
              await new Promise((r) => setTimeout(r, 5));
              return 'done';
            }),
          ),
        );
        expect(results.filter((r) => !r.duplicate)).toEqual([{ duplicate: false, result: 'done' }]);
        expect(await streamVersion(db, s)).toBe(1);
      });
    });
  });
}
