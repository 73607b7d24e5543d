import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';
import { appendToStream, appendToStreamsStatement, migrateStore, openPostgres, readStream, type Db } from './index.js';
import { LOG_CHANNEL } from './store-migrations.js';

/*
 * A Db on the server wakes its own log readers in-process as soon as an appending commit
 * returns, and every other Db (another process's) through NOTIFY; its own NOTIFY, which
 * comes back to its own listening connection a round trip later, does not wake them again.
 */
describe('wake-ups after an appending commit (PostgreSQL server)', () => {
  let fresh: FreshDatabase & { url: string };
  let writer: Db;
  let other: Db;
  beforeAll(async () => {
    fresh = await freshPostgres('wakeup', 4);
    await migrateStore(fresh.db);
    writer = openPostgres({ url: fresh.url, max: 2 });
    other = openPostgres({ url: fresh.url, max: 2 });
  });
  afterAll(async () => {
    await writer?.close();
    await other?.close();
    await fresh?.close();
  });

  /** Counts a Db's wake-ups on the log channel; `probe` waits until its listening connection has read everything sent before. */
  async function counter(db: Db): Promise<{ readonly count: () => number; probe: () => Promise<void>; stop: () => Promise<void> }> {
    let count = 0;
    const probes: (() => void)[] = [];
    const channel = `probe_${Math.random().toString(36).slice(2)}`;
    const stopLog = await db.listen!(LOG_CHANNEL, () => void count++);
    const stopProbe = await db.listen!(channel, () => probes.shift()?.());
    return {
      count: () => count,
      // Notifications reach one connection in the order they were sent.
      probe: async () => {
        const heard = new Promise<void>((r) => probes.push(r));
        await fresh.db.query(`NOTIFY ${channel}`);
        await heard;
      },
      stop: async () => (await stopLog(), await stopProbe()),
    };
  }

  for (const how of ['autocommit', 'transaction'] as const) {
    it(`wakes its own readers once, before the ${how}'s promise settles, and the others' through NOTIFY`, async () => {
      const mine = await counter(writer);
      const theirs = await counter(other);
      try {
        const stream = `s-${how}-${Date.now()}`;
        if (how === 'autocommit') await appendToStream(writer, stream, 0, [{ type: 'Here', data: null }]);
        else await writer.transaction((tx) => appendToStream(tx, stream, 0, [{ type: 'Here', data: null }]));
        expect(mine.count()).toBe(1); // no round trip yet: woken in-process
        // The other Db hears the NOTIFY; a probe sent after that reaches the writer's listening
        // connection after the NOTIFY too (one queue, in commit order).
        await vi.waitFor(() => expect(theirs.count()).toBe(1), { timeout: 10_000, interval: 5 });
        await mine.probe();
        expect(mine.count()).toBe(1); // its own NOTIFY skipped
        await theirs.probe();
        expect(theirs.count()).toBe(1);
      } finally {
        await mine.stop();
        await theirs.stop();
      }
    });
  }

  it('wakes nobody when the COMMIT of an appending transaction fails (its notification goes with the COMMIT, after it)', async () => {
    await fresh.db.query('CREATE TABLE IF NOT EXISTS wakeup_deferred (x integer UNIQUE DEFERRABLE INITIALLY DEFERRED)');
    const mine = await counter(writer);
    const theirs = await counter(other);
    try {
      const stream = `s-refused-${Date.now()}`;
      // The duplicate is checked at COMMIT: the append before it never commits.
      const refused = writer.transaction(async (tx) => {
        await appendToStream(tx, stream, 0, [{ type: 'Here', data: null }]);
        await tx.query('INSERT INTO wakeup_deferred VALUES (1), (1)');
      });
      await expect(refused).rejects.toMatchObject({ code: '23505' });
      expect(await readStream(writer, stream)).toEqual([]);
      await theirs.probe();
      await mine.probe();
      expect([mine.count(), theirs.count()]).toEqual([0, 0]);
    } finally {
      await mine.stop();
      await theirs.stop();
    }
  });

  it('wakes them too when the function throws after its last batch committed the append', async () => {
    const mine = await counter(writer);
    const theirs = await counter(other);
    try {
      const stream = `s-thrown-${Date.now()}`;
      const failed = writer.transaction(async (tx) => {
        await tx.batch!([appendToStreamsStatement([{ stream, expectedVersion: 0, messages: [{ type: 'Here', data: null }] }]).statement], { commit: true });
        throw new Error('after the commit');
      });
      await expect(failed).rejects.toThrow('after the commit');
      expect((await readStream(writer, stream)).map((m) => m.type)).toEqual(['Here']); // committed all the same
      expect(mine.count()).toBe(1);
      await vi.waitFor(() => expect(theirs.count()).toBe(1), { timeout: 10_000, interval: 5 });
    } finally {
      await mine.stop();
      await theirs.stop();
    }
  });
});
