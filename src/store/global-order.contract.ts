import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from './db.js';
import {
  appendToStream,
  globalPositionOf,
  lastGlobalPosition,
  loadCheckpoint,
  readAll,
  readAllVisible,
  saveCheckpoint,
  type GlobalPosition,
  type StoredMessage,
} from './index.js';
import { migratedForSuite, readAllUntil, uniqueStream, type ContractDatabase, type EngineCapabilities } from './contract-support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The reader DESIGN.md §2 warns about: by position alone, the way sequence-gap polling works. */
async function naiveRead(q: Queryable, afterPosition: bigint, limit: number): Promise<{ id: string; position: bigint }[]> {
  const r = await q.query<{ id: string; position: string }>(
    'SELECT id, position::text AS position FROM ordo_messages WHERE position > $1::bigint ORDER BY ordo_messages.position LIMIT $2',
    [afterPosition.toString(), limit],
  );
  return r.rows.map((row) => ({ id: row.id, position: BigInt(row.position) }));
}

async function maxPosition(db: Db): Promise<bigint> {
  const r = await db.query<{ p: string }>('SELECT coalesce(max(position), 0)::text AS p FROM ordo_messages');
  return BigInt(r.rows[0]?.p ?? '0');
}

/**
 * The acceptance test of the message log (DESIGN.md §2): writers commit out of order,
 * and a reader that polls readAll with its checkpoint sees every message exactly once.
 * On the server a reader by position alone is shown to skip in the same run.
 */
export function describeGlobalOrderContract(name: string, open: () => Promise<ContractDatabase>, engine: EngineCapabilities): void {
  describe(`global order under out-of-order commits: ${name}`, () => {
    let db: Db;
    migratedForSuite(open, (d) => (db = d));

    it.runIf(engine.concurrentTransactions)('a transaction that took a position first and commits last is read, not skipped', async () => {
      const from = await lastGlobalPosition(db);
      const naiveFrom = await maxPosition(db);
      const aAppended = deferred();
      const aMayCommit = deferred();
      const a = db.transaction(async (tx) => {
        await appendToStream(tx, uniqueStream('a'), 0, [{ type: 'FromA', data: null }]);
        aAppended.resolve();
        await aMayCommit.promise;
      });
      await aAppended.promise;
      await db.transaction((tx) => appendToStream(tx, uniqueStream('b'), 0, [{ type: 'FromB', data: null }]));

      // B is committed, A is not: the naive reader takes B and moves its checkpoint past A's position.
      const naive1 = await naiveRead(db, naiveFrom, 100);
      expect(naive1).toHaveLength(1);
      // readAll holds back: A's transaction is still running, so nothing after it is final yet.
      expect(await readAll(db, from, 100)).toEqual([]);
      // readAllVisible does not (safe only for a reader that keeps writers out); B is the newest visible message.
      const visible = await readAllVisible(db, from, 100);
      expect(visible.map((m) => m.type)).toEqual(['FromB']);
      expect(await lastGlobalPosition(db)).toEqual(globalPositionOf(visible[0]!));

      aMayCommit.resolve();
      await a;
      const naive2 = await naiveRead(db, naive1[0]!.position, 100);
      expect(naive2).toEqual([]); // A's message is lost to the naive reader
      const read = await readAllUntil(db, from, 2);
      expect(read.map((m) => m.type)).toEqual(['FromA', 'FromB']);
    });

    it('readAllVisible and lastGlobalPosition agree with readAll once the writers have finished', async () => {
      const from = await lastGlobalPosition(db);
      await appendToStream(db, uniqueStream('v'), 0, [
        { type: 'V1', data: null },
        { type: 'V2', data: null },
      ]);
      const all = await readAllUntil(db, from, 2);
      expect(await readAllVisible(db, from, 100)).toEqual(all);
      expect((await readAllVisible(db, from, 1)).map((m) => m.type)).toEqual(['V1']);
      expect(await lastGlobalPosition(db)).toEqual(globalPositionOf(all[1]!));
      await expect(readAllVisible(db, from, 0)).rejects.toThrow(/limit/);
    });

    it('a checkpointed reader sees every message exactly once while many writers commit out of order', async () => {
      const writers = engine.concurrentTransactions ? 12 : 6;
      const txPerWriter = engine.concurrentTransactions ? 25 : 15;
      const readerName = `reader-${randomUUID()}`;
      const start = await lastGlobalPosition(db);
      await saveCheckpoint(db, readerName, start);
      let naiveAt = await maxPosition(db);

      const appended: string[] = [];
      const seen: StoredMessage[] = [];
      const naiveSeen = new Set<string>();
      let writing = true;

      // Server only: one transaction takes its position before all the others and commits
      // only after the naive reader has moved past it, so the naive reader skips for certain.
      const slow = { id: randomUUID(), appended: deferred<bigint>(), mayCommit: deferred(), done: Promise.resolve() };
      if (engine.concurrentTransactions) {
        slow.done = db.transaction(async (tx) => {
          const r = await appendToStream(tx, uniqueStream('slow'), 0, [{ id: slow.id, type: 'Slow', data: null }]);
          slow.appended.resolve(r.positions[0]!);
          await slow.mayCommit.promise;
        });
        appended.push(slow.id);
      } else {
        slow.appended.resolve(-1n);
        slow.mayCommit.resolve();
      }
      const slowPosition = await slow.appended.promise;

      const writer = async (w: number): Promise<void> => {
        const stream = uniqueStream(`w${w}`);
        let version = 0;
        for (let i = 0; i < txPerWriter; i++) {
          const batch = Array.from({ length: 1 + ((w + i) % 3) }, () => ({ id: randomUUID(), type: 'Work', data: { w, i } }));
          await db.transaction(async (tx) => {
            await appendToStream(tx, stream, version, batch);
            // Hold the transaction open for a while: later positions commit before this one.
            await sleep(Math.floor(Math.random() * 8));
          });
          version += batch.length;
          appended.push(...batch.map((m) => m.id));
        }
      };

      // The reader a projection would be: load checkpoint, read a page, save checkpoint, repeat.
      let writingEndedAt = 0;
      const reader = async (): Promise<void> => {
        for (;;) {
          const done = !writing;
          // A reader that skipped would wait forever; give up after a while so the assertions below say what is missing.
          if (done && Date.now() - writingEndedAt > 40_000) return;
          const at: GlobalPosition = await loadCheckpoint(db, readerName);
          const page = await readAll(db, at, 13);
          const last = page[page.length - 1];
          if (last) {
            seen.push(...page);
            await db.transaction((tx) => saveCheckpoint(tx, readerName, globalPositionOf(last)));
          } else if (done && seen.length >= appended.length) return;
          else await sleep(2);
        }
      };

      const naiveReader = async (): Promise<void> => {
        for (;;) {
          const done = !writing;
          const page = await naiveRead(db, naiveAt, 50);
          for (const m of page) naiveSeen.add(m.id);
          const last = page[page.length - 1];
          if (last) naiveAt = last.position;
          if (naiveAt > slowPosition) slow.mayCommit.resolve();
          if (!last && done) return;
          if (!last) await sleep(1);
        }
      };

      const readers = Promise.all([reader(), naiveReader()]);
      await Promise.all([...Array.from({ length: writers }, (_, w) => writer(w)), slow.done]);
      writingEndedAt = Date.now();
      writing = false;
      await readers;

      const ids = seen.map((m) => m.id);
      expect(ids.length).toBe(appended.length); // nothing read twice…
      expect(new Set(ids)).toEqual(new Set(appended)); // …and nothing skipped
      for (let i = 1; i < seen.length; i++) {
        const a = seen[i - 1]!;
        const b = seen[i]!;
        expect(a.txId < b.txId || (a.txId === b.txId && a.position < b.position)).toBe(true);
      }
      const versions = new Map<string, number>();
      for (const m of seen) {
        expect(m.streamVersion).toBe((versions.get(m.stream) ?? 0) + 1); // each stream in order
        versions.set(m.stream, m.streamVersion);
      }

      if (engine.concurrentTransactions) {
        // Same run, same data: reading by position alone lost at least the slow transaction's message.
        expect(naiveSeen.has(slow.id)).toBe(false);
        expect(naiveSeen.size).toBeLessThan(appended.length);
      }
    });
  });
}
