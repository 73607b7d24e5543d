import { describe, expect, it } from 'vitest';
import { countingDb } from '../testing/counting-db.js';
import { appendToStream, migrateStore, type Db } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { migrateEventsourcing } from './eventsourcing-migrations.js';
import { defineProjection } from './projection.js';
import { startProjector } from './projector.js';

const engines = bothEngines('es_idle');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A projector sleeps `pollMs` when caught up, unless woken. An idle poll is one read outside
 * any transaction; a batch (a transaction holding the projection's lock) runs when that read
 * finds a message, and at every tenth poll (which sees a checkpoint moved by hand).
 */
describe.each(engines)('an idle projector on %s', (_engine, open) => {
  let raw: Db;
  databaseForSuite(
    open,
    async (d) => {
      await migrateStore(d);
      await migrateEventsourcing(d);
      await d.query('CREATE TABLE IF NOT EXISTS es_idle_seen (id text PRIMARY KEY)');
    },
    (d) => (raw = d),
  );
  const seen = defineProjection({
    name: 'idle_seen',
    table: 'es_idle_seen',
    canHandle: ['Seen'],
    setup: () => Promise.resolve(),
    async handle(messages, { q }) {
      for (const m of messages) await q.query('INSERT INTO es_idle_seen VALUES ($1)', [m.id]);
    },
  });
  const projected = async () => (await raw.query<{ n: number }>('SELECT count(*)::int AS n FROM es_idle_seen')).rows[0]?.n ?? 0;

  it('polls with one read per poll, and projects what a poll finds at that poll', async () => {
    const { db, counts } = countingDb(raw);
    const projector = startProjector(db, seen, { pollMs: 20 });
    try {
      await projector.catchUp();
      await sleep(60);
      const before = { ...counts };
      await sleep(500);
      const polls = counts.statements - before.statements;
      expect(polls).toBeGreaterThanOrEqual(3);
      // A batch at every tenth poll at most (the old poll was a batch every time).
      expect(counts.transactions - before.transactions).toBeLessThanOrEqual(Math.ceil(polls / 10) + 1);

      // Appended without a wake-up: the next poll's read finds it and its batch projects it,
      // without waiting for the tenth poll.
      const polled = counts.statements;
      await appendToStream(raw, 'seen-1', 0, [{ type: 'Seen', data: {} }]);
      const end = Date.now() + 10_000;
      while ((await projected()) < 1 && Date.now() < end) await sleep(5);
      expect(await projected()).toBe(1);
      expect(counts.statements - polled).toBeLessThanOrEqual(3);
    } finally {
      await projector.stop();
    }
  });
});
