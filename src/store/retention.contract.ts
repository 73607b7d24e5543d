import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from './db.js';
import { appendToStream, globalPositionOf, lastGlobalPosition, LOG_START, oldestReader, pruneInbox, readStream, recordInbox, removeStreams, saveCheckpoint, trimOutbox } from './index.js';
import { migratedForSuite, readAllUntil, type ContractDatabase } from './contract-support.js';

const count = async (db: Db, sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);

/**
 * Retention of the store's tables, against every engine. `open` must give a database of
 * its own: the oldest checkpoint decides what may leave, so other suites' readers would too.
 */
export function describeRetentionContract(name: string, open: () => Promise<ContractDatabase>): void {
  describe(`retention: ${name}`, () => {
    let db: Db;
    migratedForSuite(open, (d) => (db = d));

    it('keeps everything while no reader has a checkpoint: a relay that never ran still has to publish', async () => {
      const stream = `finished-${randomUUID()}`;
      await appendToStream(db, stream, 0, [{ type: 'Done', data: null }]);
      expect(await oldestReader(db)).toBeNull();
      expect(await db.transaction((tx) => removeStreams(tx, [stream], 'delete'))).toEqual({ removed: [], held: [stream], messages: 0 });
      expect(await db.transaction((tx) => trimOutbox(tx, new Date(Date.now() + 60_000), 'delete', 100))).toBe(0);
      expect(await readStream(db, stream)).toHaveLength(1);
    });

    it('moves a stream out only once every reader has passed all of it, to the archive or away', async () => {
      const [a, b, c] = [`a-${randomUUID()}`, `b-${randomUUID()}`, `c-${randomUUID()}`];
      const relay = `relay-${randomUUID()}`;
      const projection = `projection-${randomUUID()}`;
      await saveCheckpoint(db, relay, await lastGlobalPosition(db));
      await saveCheckpoint(db, projection, await lastGlobalPosition(db));
      await appendToStream(db, a, 0, [{ type: 'A1', data: 1 }, { type: 'A2', data: 2 }]);
      await appendToStream(db, b, 0, [{ type: 'B1', data: 1 }]);
      // readAllUntil: a transaction of this database (autovacuum's ANALYZE) may hold the read horizon back a moment.
      const read = await readAllUntil(db, (await oldestReader(db))!.position, 3);
      const afterA = globalPositionOf(read.find((m) => m.type === 'A2')!);
      const afterB = globalPositionOf(read.find((m) => m.type === 'B1')!);
      // The relay passed both streams, the projection only a: b is held for the projection.
      await saveCheckpoint(db, relay, afterB.txId > afterA.txId || (afterB.txId === afterA.txId && afterB.position > afterA.position) ? afterB : afterA);
      await saveCheckpoint(db, projection, afterA);
      expect((await oldestReader(db))?.name).toBe(projection);
      const first = await db.transaction((tx) => removeStreams(tx, [a, b], 'archive'));
      expect(first).toEqual({ removed: [a], held: [b], messages: 2 });
      expect(await readStream(db, a)).toEqual([]);
      expect(await count(db, 'SELECT count(*)::text AS n FROM ordo_messages_archive WHERE stream = $1', [a])).toBe(2);
      expect(await readStream(db, b)).toHaveLength(1);

      await saveCheckpoint(db, projection, afterB);
      await appendToStream(db, c, 0, [{ type: 'C1', data: 1 }]); // after every checkpoint
      expect(await db.transaction((tx) => removeStreams(tx, [b, c], 'delete'))).toEqual({ removed: [b], held: [c], messages: 1 });
      expect(await count(db, 'SELECT count(*)::text AS n FROM ordo_messages_archive WHERE stream = $1', [b])).toBe(0);
      // The readers go on from checkpoints whose rows are gone.
      // readAllUntil: another transaction (a post-commit NOTIFY waiting for the server's notify lock) may hold the read horizon back a moment.
      expect((await readAllUntil(db, afterB, 1)).map((m) => m.type)).toEqual(['C1']);
      await expect(db.transaction((tx) => removeStreams(tx, [c], 'shred' as never))).rejects.toThrow(/mode/);
    });

    it('trims an outbox by age, never past the oldest reader', async () => {
      const stream = `outbox-${randomUUID()}`;
      const relay = `outbox-relay-${randomUUID()}`;
      await db.query('DELETE FROM ordo_checkpoints');
      await appendToStream(db, stream, 0, [{ type: 'Old1', data: 1 }, { type: 'Old2', data: 2 }]);
      await db.query(`UPDATE ordo_messages SET created_at = now() - interval '2 hours' WHERE stream = $1`, [stream]);
      await appendToStream(db, stream, 2, [{ type: 'New', data: 3 }]);
      const all = await readAllUntil(db, LOG_START, await count(db, 'SELECT count(*)::text AS n FROM ordo_messages'), 1000);
      const old1 = all.find((m) => m.stream === stream && m.type === 'Old1')!;
      await saveCheckpoint(db, relay, globalPositionOf(old1)); // the relay has published Old1 only
      const hourAgo = new Date(Date.now() - 3_600_000);
      expect(await db.transaction((tx) => trimOutbox(tx, hourAgo, 'delete', 100))).toBeGreaterThanOrEqual(1);
      expect((await readStream(db, stream)).map((m) => m.type)).toEqual(['Old2', 'New']);
      await saveCheckpoint(db, relay, await lastGlobalPosition(db)); // everything published: only age keeps New
      expect(await db.transaction((tx) => trimOutbox(tx, hourAgo, 'archive', 100))).toBe(1);
      expect((await readStream(db, stream)).map((m) => m.type)).toEqual(['New']);
      await expect(db.transaction((tx) => trimOutbox(tx, hourAgo, 'delete', 0))).rejects.toThrow(/limit/);
    });

    it('forgets inbox entries by age only', async () => {
      const consumer = `c-${randomUUID()}`;
      await recordInbox(db, consumer, 'old');
      await recordInbox(db, consumer, 'recent');
      await db.query(`UPDATE ordo_inbox SET handled_at = now() - interval '8 days' WHERE consumer = $1 AND message_id = 'old'`, [consumer]);
      const weekAgo = new Date(Date.now() - 7 * 86_400_000);
      expect(await db.transaction((tx) => pruneInbox(tx, weekAgo, 1000))).toBe(1);
      expect(await recordInbox(db, consumer, 'recent')).toBe(false); // still a duplicate
      expect(await recordInbox(db, consumer, 'old')).toBe(true); // forgotten: the redelivery window must be shorter than the retention
    });
  });
}
