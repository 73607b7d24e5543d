import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from './db.js';
import {
  DuplicateMessageIdError,
  ExpectedVersionConflictError,
  InvalidStoreInputError,
  appendToStream,
  appendToStreams,
  appendToStreamsStatement,
  readStream,
  runStatements,
  recordInboxMany,
  streamVersion,
} from './index.js';
import { migratedForSuite, olderTransaction, rejection, uniqueStream, type ContractDatabase, type EngineCapabilities } from './contract-support.js';

/** The batched writes (appendToStreams, recordInboxMany) behave as their one-at-a-time versions, in one round trip. */
export function describeBatchWritesContract(name: string, open: () => Promise<ContractDatabase>, engine: EngineCapabilities): void {
  describe(`batched writes: ${name}`, () => {
    let db: Db;
    migratedForSuite(open, (d) => (db = d));

    describe('appendToStreams', () => {
      it('appends to several streams at once, each with its own expected version, as appendToStream would', async () => {
        const [fresh, existing, any, none] = [uniqueStream('new'), uniqueStream('old'), uniqueStream('any'), uniqueStream('none')];
        await appendToStream(db, existing, 0, [{ type: 'First', data: 1 }]);
        await appendToStream(db, none, 0, [{ type: 'Only', data: 1 }]);
        const id = randomUUID();
        const r = await db.transaction((tx) =>
          appendToStreams(tx, [
            { stream: fresh, expectedVersion: 'no_stream', messages: [{ id, type: 'A', data: { n: 1 }, metadata: { topic: 't' } }, { type: 'B', data: undefined }] },
            { stream: existing, expectedVersion: 1, messages: [{ type: 'Second', data: 2 }] },
            { stream: any, expectedVersion: 'any', messages: [{ type: 'Any', data: null }] },
            { stream: none, expectedVersion: 1, messages: [] },
          ]),
        );
        expect(r.map((x) => x.nextExpectedVersion)).toEqual([2, 2, 1, 1]);
        expect(r[3]!.positions).toEqual([]);
        const freshRead = await readStream(db, fresh);
        expect(freshRead.map((m) => [m.streamVersion, m.type, m.data])).toEqual([
          [1, 'A', { n: 1 }],
          [2, 'B', null],
        ]);
        expect(freshRead[0]).toMatchObject({ id, metadata: { topic: 't' } });
        expect(freshRead[1]!.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(freshRead.map((m) => m.position)).toEqual(r[0]!.positions);
        expect((await readStream(db, existing)).map((m) => m.type)).toEqual(['First', 'Second']);
        expect((await readStream(db, existing))[1]!.position).toBe(r[1]!.positions[0]);
        expect(await streamVersion(db, any)).toBe(1);
        expect(await appendToStreams(db, [])).toEqual([]);
      });

      it('keeps awkward JSON as it was, on each way to the log (set statement, the function for \'any\', a script)', async () => {
        // What a literal must carry: quotes of both kinds, backslashes, placeholders, comment marks, unicode, line breaks.
        const awkward = ["it's", 'back\\slash', 'both \\\' and "', '$1 and $2', '-- not a comment', 'ünïcødé ✓ 🚀', 'line\nbreak', '', '\\"'];
        const data = { texts: awkward, nested: { [awkward[2]!]: [1, 2.5, null, true, {}, []] }, n: -0.125 };
        const metadata = { topic: "o'topic", note: awkward.join('|') };
        const [set, any, scripted] = [uniqueStream('set'), uniqueStream('any'), uniqueStream('script')];
        await appendToStreams(db, [{ stream: set, expectedVersion: 0, messages: [{ type: 'A', data, metadata }, { type: "B'", data: awkward }] }]);
        await appendToStreams(db, [{ stream: any, expectedVersion: 'any', messages: [{ type: 'A', data, metadata }, { type: "B'", data: awkward }] }]);
        const { statement } = appendToStreamsStatement([{ stream: scripted, expectedVersion: 0, messages: [{ type: 'A', data, metadata }, { type: "B'", data: awkward }] }]);
        await db.transaction((tx) => runStatements(tx, [statement], { commit: true }));
        for (const stream of [set, any, scripted]) {
          expect((await readStream(db, stream)).map((m) => [m.type, m.data, m.metadata])).toEqual([
            ['A', data, metadata],
            ["B'", awkward, {}],
          ]);
        }
      });

      it('is all or nothing: a wrong expected version on one stream names it and writes no stream', async () => {
        const [a, b, c] = [uniqueStream(), uniqueStream(), uniqueStream()];
        await appendToStream(db, b, 0, [{ type: 'B1', data: null }]);
        const call = (bExpected: number, cMessages = 1) =>
          appendToStreams(db, [
            { stream: a, expectedVersion: 0, messages: [{ type: 'A', data: null }] },
            { stream: b, expectedVersion: bExpected, messages: [{ type: 'B2', data: null }] },
            { stream: c, expectedVersion: 0, messages: Array.from({ length: cMessages }, () => ({ type: 'C', data: null })) },
          ]);
        const err = await rejection(call(0));
        expect(err).toBeInstanceOf(ExpectedVersionConflictError);
        expect(err).toMatchObject({ stream: b, expected: 0, actual: 1, reason: 'version', retryable: true });
        expect([await streamVersion(db, a), await streamVersion(db, b), await streamVersion(db, c)]).toEqual([0, 1, 0]);
        // An empty append still checks its version.
        await expect(appendToStreams(db, [{ stream: b, expectedVersion: 3, messages: [] }])).rejects.toMatchObject({ stream: b, actual: 1 });
        expect((await call(1, 2)).map((x) => x.nextExpectedVersion)).toEqual([1, 2, 2]);
      });

      it('refuses reused message ids and bad input with typed errors, writing nothing', async () => {
        const [a, b] = [uniqueStream(), uniqueStream()];
        const taken = randomUUID();
        await appendToStream(db, uniqueStream(), 0, [{ id: taken, type: 'Taken', data: null }]);
        const dup = await rejection(
          appendToStreams(db, [
            { stream: a, expectedVersion: 0, messages: [{ type: 'Fine', data: null }] },
            { stream: b, expectedVersion: 0, messages: [{ id: taken, type: 'Reused', data: null }] },
          ]),
        );
        expect(dup).toBeInstanceOf(DuplicateMessageIdError);
        expect(dup).toMatchObject({ stream: b, ids: [taken], retryable: false });
        const id = randomUUID();
        const bad: [unknown, RegExp][] = [
          [[{ stream: a, expectedVersion: 0, messages: [] }, { stream: a, expectedVersion: 0, messages: [] }], /appears twice in one call/],
          [[{ stream: a, expectedVersion: 0, messages: [{ id, type: 'X', data: 1 }] }, { stream: b, expectedVersion: 0, messages: [{ id, type: 'Y', data: 2 }] }], /appears twice in one call/],
          [[{ stream: '', expectedVersion: 0, messages: [] }], /non-empty/],
          [[{ stream: a, expectedVersion: -1, messages: [] }], /non-negative integer/],
          [[{ stream: a, expectedVersion: 0, messages: [{ type: '' }] }], /non-empty/],
          [[null], /must be an object/],
          ['not a list', /must be an array/],
        ];
        for (const [appends, message] of bad) {
          const err = await rejection(appendToStreams(db, appends as never));
          expect(err).toBeInstanceOf(InvalidStoreInputError);
          expect((err as Error).message).toMatch(message);
        }
        expect([await streamVersion(db, a), await streamVersion(db, b)]).toEqual([0, 0]);
      });

      it.runIf(engine.concurrentTransactions)('names the stream a concurrent appender won, and the stream a newer transaction wrote', async () => {
        const [mine, contested] = [uniqueStream('mine'), uniqueStream('contested')];
        // B appends after A, a newer transaction, wrote `contested`.
        const b = olderTransaction(db, (tx) =>
          appendToStreams(tx, [
            { stream: mine, expectedVersion: 0, messages: [{ type: 'Mine', data: null }] },
            { stream: contested, expectedVersion: 1, messages: [{ type: 'FromB', data: null }] },
          ]),
        );
        await b.idTaken;
        await appendToStream(db, contested, 0, [{ type: 'FromA', data: null }]);
        b.proceed();
        expect(await rejection(b.result)).toMatchObject({ stream: contested, reason: 'transaction-order' });

        // Two transactions append to the same new stream: the one that waited on the other's row loses the race.
        const raced = uniqueStream('raced');
        const results = await Promise.allSettled(
          [0, 1].map((i) =>
            db.transaction(async (tx) => {
              const r = await appendToStreams(tx, [
                { stream: uniqueStream('own'), expectedVersion: 0, messages: [{ type: 'Own', data: i }] },
                { stream: raced, expectedVersion: 0, messages: [{ type: 'Racer', data: i }] },
              ]);
              await new Promise((res) => setTimeout(res, 20)); // hold the row so the other really waits on it
              return r;
            }),
          ),
        );
        const lost = results.filter((r) => r.status === 'rejected');
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(ExpectedVersionConflictError);
        expect(lost[0]!.reason).toMatchObject({ stream: raced, retryable: true });
        expect(await streamVersion(db, raced)).toBe(1);
      });
    });

    describe('recordInboxMany', () => {
      it('returns the ids seen for the first time, per consumer, and rejects bad input', async () => {
        const [x, y, z] = [randomUUID(), randomUUID(), randomUUID()];
        expect(await recordInboxMany(db, 'batch-a', [x, y])).toEqual(new Set([x, y]));
        expect(await recordInboxMany(db, 'batch-a', [z, y, x])).toEqual(new Set([z]));
        expect(await recordInboxMany(db, 'batch-b', [x])).toEqual(new Set([x]));
        expect(await recordInboxMany(db, 'batch-a', [])).toEqual(new Set());
        await expect(recordInboxMany(db, '', [x])).rejects.toBeInstanceOf(InvalidStoreInputError);
        await expect(recordInboxMany(db, 'batch-a', [randomUUID(), ''])).rejects.toThrow(/messageIds\[1\]/);
        // Rolled back with its transaction: the ids count as new again.
        const w = randomUUID();
        await expect(
          db.transaction(async (tx) => {
            expect(await recordInboxMany(tx, 'batch-a', [w])).toEqual(new Set([w]));
            throw new Error('handler failed');
          }),
        ).rejects.toThrow('handler failed');
        expect(await recordInboxMany(db, 'batch-a', [w, x])).toEqual(new Set([w]));
      });

      it.runIf(engine.concurrentTransactions)('gives each id to exactly one of several transactions recording overlapping sets', async () => {
        const ids = Array.from({ length: 12 }, () => randomUUID());
        const results = await Promise.all(
          [0, 1, 2, 3].map((k) =>
            db.transaction(async (tx) => {
              const mine = ids.filter((_, i) => i % 4 !== k).reverse(); // overlapping, each in another order
              const fresh = await recordInboxMany(tx, 'batch-concurrent', mine);
              await new Promise((r) => setTimeout(r, 5));
              return [...fresh];
            }),
          ),
        );
        const all = results.flat();
        expect(all.sort()).toEqual([...ids].sort());
      });
    });
  });
}
