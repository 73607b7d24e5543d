import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Db } from './db.js';
import {
  appendToStream,
  lastGlobalPosition,
  loadCheckpoint,
  saveCheckpoint,
  startOutboxRelay,
  type NewMessage,
  type OutboxRelay,
  type StructuredLogger,
  type RelayMessage,
  type RelayTarget,
} from './index.js';
import { migratedForSuite, uniqueStream, whileHolding, type ContractDatabase, type EngineCapabilities } from './contract-support.js';

/** A broker stand-in that records what was published and can be made to fail. */
class RecordingTarget implements RelayTarget {
  readonly published: RelayMessage[] = [];
  failNext = 0;
  calls = 0;
  publish(messages: readonly RelayMessage[]): Promise<void> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4222'));
    }
    this.published.push(...messages);
    return Promise.resolve();
  }
}

function recordingLog(): StructuredLogger & { lines: { level: string; msg: string; obj: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

const out = (topic: string, extra: Record<string, unknown> = {}): NewMessage => ({
  id: randomUUID(),
  type: 'Cmd',
  data: { n: Math.random() },
  metadata: { topic, ...extra },
});

async function until(what: string, condition: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(condition(), what).toBe(true), { timeout: 15_000, interval: 10 });
}

/** The outbox relay's contract, run against every engine. */
export function describeOutboxRelayContract(name: string, open: () => Promise<ContractDatabase>, engine: EngineCapabilities): void {
  describe(`outbox relay: ${name}`, () => {
    let db: Db;
    const relays: OutboxRelay[] = [];
    const start = (options: Omit<Parameters<typeof startOutboxRelay>[0], 'db' | 'log'> & { db?: Db; log?: StructuredLogger }): OutboxRelay => {
      const relay = startOutboxRelay({ db, log: recordingLog(), pollMs: 10, backoff: { initialMs: 5, maxMs: 40 }, ...options });
      relays.push(relay);
      return relay;
    };
    /** A relay that starts at the current end of the log, so earlier tests' messages are not its business. */
    const startAtEnd = async (options: Parameters<typeof start>[0]): Promise<OutboxRelay> => {
      await saveCheckpoint(db, options.name, await lastGlobalPosition(options.db ?? db));
      return start(options);
    };
    migratedForSuite(open, (d) => (db = d));
    afterAll(async () => {
      await Promise.all(relays.map((r) => r.stop())); // after hooks run last-registered first: before the database closes
    });

    it('publishes the messages marked with a topic, in order per stream, with the log id, key and headers', async () => {
      const target = new RecordingTarget();
      const name = `relay-${randomUUID()}`;
      const relay = await startAtEnd({ name, transport: target, batchSize: 7 });
      const streams = Array.from({ length: 6 }, () => uniqueStream('order'));
      const expected: string[] = [];
      await Promise.all(
        streams.map(async (s, i) => {
          let version = 0;
          for (let k = 0; k < 8; k++) {
            const batch = [
              out('inventory-commands', { correlationId: s, causationId: `c${k}`, attempt: 3 }),
              { type: 'Internal', data: { k } }, // no topic: stays in the log only
              out('payment-commands', { key: `custom-${i}` }),
            ];
            await db.transaction((tx) => appendToStream(tx, s, version, batch));
            version += batch.length;
            expected.push(batch[0]!.id!, batch[2]!.id!);
          }
        }),
      );
      relay.notify();
      await until('all published', () => target.published.length >= expected.length);
      expect(target.published.map((m) => m.id).sort()).toEqual([...expected].sort());
      expect(target.published.some((m) => m.type === 'Internal')).toBe(false);
      const first = target.published.find((m) => m.topic === 'inventory-commands')!;
      expect(first.key).toBe(first.headers['correlationId']); // default key: the stream
      expect(first.headers).toMatchObject({ causationId: expect.stringMatching(/^c\d$/) as unknown });
      expect(first.headers['attempt']).toBe('3'); // scalar metadata become string headers
      expect(target.published.filter((m) => m.topic === 'payment-commands').every((m) => m.key.startsWith('custom-'))).toBe(true);
      // Per key, the order of publication is the order in the stream.
      for (const s of streams) {
        const mine = target.published.filter((m) => m.key === s).map((m) => m.headers['causationId']);
        expect(mine).toEqual(Array.from({ length: 8 }, (_, k) => `c${k}`));
      }
      await relay.stop();
      const cp = await loadCheckpoint(db, name);
      expect(cp).toEqual(relay.stats.position);
      expect(relay.stats.published).toBe(expected.length);
    });

    it('backs off while the transport is unreachable, says so, then delivers everything in order', async () => {
      const target = new RecordingTarget();
      target.failNext = 4;
      const log = recordingLog();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, log, batchSize: 3 });
      const s = uniqueStream();
      const msgs = Array.from({ length: 10 }, () => out('orders'));
      await appendToStream(db, s, 0, msgs);
      relay.notify();
      await until('all published', () => target.published.length >= 10);
      expect(target.published.map((m) => m.id)).toEqual(msgs.map((m) => m.id)); // nothing lost, duplicated or reordered
      expect(relay.stats.failures).toBe(4);
      const warnings = log.lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(4);
      expect(warnings[0]!.msg).toMatch(/transport unreachable/);
      expect(warnings.map((w) => w.obj['retryInMs'])).toEqual([5, 10, 20, 40]); // exponential
      expect(warnings[0]!.obj['err']).toMatch(/ECONNREFUSED/);
      expect(log.lines.some((l) => l.level === 'info' && /succeeded again/.test(l.msg))).toBe(true);
      await relay.stop();
    });

    it('resumes from its checkpoint after a restart, and republishes a batch whose checkpoint was not saved', async () => {
      const name = `relay-${randomUUID()}`;
      const s = uniqueStream();
      const first = Array.from({ length: 5 }, () => out('orders'));
      const target1 = new RecordingTarget();
      const relay1 = await startAtEnd({ name, transport: target1 });
      await appendToStream(db, s, 0, first);
      await until('first published', () => target1.published.length >= 5);
      await until('checkpoint saved', () => relay1.stats.position.position > 0n);
      await relay1.stop();

      // Second life: the database refuses to save the checkpoint, as if the process died right after publishing.
      const second = Array.from({ length: 3 }, () => out('orders'));
      await appendToStream(db, s, 5, second);
      const target2 = new RecordingTarget();
      const failingSaves: Db = {
        ...db,
        query: (sql, params) => (sql.includes('UPDATE ordo_checkpoints SET tx_id') ? Promise.reject(new Error('connection lost')) : db.query(sql, params)),
      };
      const relay2 = start({ name, transport: target2, db: failingSaves });
      await until('second published', () => target2.published.length >= 3);
      await relay2.stop();
      expect(target2.published.map((m) => m.id)).toEqual(second.map((m) => m.id)); // resumed after `first`

      // Third life: the unsaved batch goes out again (at-least-once), same ids for dedup downstream.
      const target3 = new RecordingTarget();
      const relay3 = start({ name, transport: target3 });
      await until('republished', () => target3.published.length >= 3);
      await relay3.stop();
      expect(target3.published.map((m) => m.id)).toEqual(second.map((m) => m.id));
    });

    /**
     * The Db with a count of the relay's log reads and checkpoint saves. A read that found
     * only that a committed message is held back (an older transaction of this database
     * still running: an autoanalyze, another test's) is followed by a look again in a few
     * ms, not by a wake-up: `reads` leaves those out, so it counts the looks wake-ups cause.
     */
    const counting = (): { db: Db; reads: () => number; saves: () => number } => {
      let reads = 0;
      let saves = 0;
      const wrapped: Db = {
        ...db,
        query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
          if (sql.includes('UPDATE ordo_checkpoints SET tx_id')) saves++;
          const r = await db.query<R>(sql, params);
          const rows = r.rows as Record<string, unknown>[];
          const onlyHeldBack = rows.length > 0 && rows.every((row) => row['held_back'] === true);
          if (sql.includes('ordo_read_horizon()') && !onlyHeldBack) reads++; // readAll's statement
          return r;
        },
      };
      return { db: wrapped, reads: () => reads, saves: () => saves };
    };

    it('saves its checkpoint once for a burst of rounds, and what it published since when it stops', async () => {
      const name = `relay-${randomUUID()}`;
      const c = counting();
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name, transport: target, db: c.db, batchSize: 2, pollMs: 60_000, checkpointEveryMs: 60_000 });
      const msgs = Array.from({ length: 10 }, () => out('orders'));
      await appendToStream(db, uniqueStream(), 0, msgs);
      relay.notify();
      await until('all published', () => target.published.length >= 10);
      expect(target.published.map((m) => m.id)).toEqual(msgs.map((m) => m.id));
      // Five rounds of two; the first save came at once, the rest of the burst waits for the next one.
      expect(c.saves()).toBe(1);
      const saved = await loadCheckpoint(db, name);
      expect(saved).toEqual(relay.stats.saved);
      expect(saved).not.toEqual(relay.stats.position);
      await relay.stop();
      expect(c.saves()).toBe(2);
      expect(await loadCheckpoint(db, name)).toEqual(relay.stats.position);
    });

    it('reads only the messages with a topic, and its checkpoint passes the ones without (retention waits for it)', async () => {
      let rowsRead = 0; // message rows the relay's reads brought back
      const c: Db = {
        ...db,
        query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
          const r = await db.query<R>(sql, params);
          if (sql.includes('ordo_read_horizon()')) rowsRead += (r.rows as Record<string, unknown>[]).filter((row) => row['held_back'] !== true && row['read_to'] !== true).length;
          return r;
        },
      };
      const name = `relay-${randomUUID()}`;
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name, transport: target, db: c, batchSize: 4 });
      const timeline = (n: number): NewMessage[] => Array.from({ length: n }, (_, k) => ({ type: 'ordo.transition', data: { k, padding: 'x'.repeat(200) }, metadata: { kind: 'timeline' } }));
      const s = uniqueStream('order');
      const outgoing = [out('inventory-commands'), out('payment-commands'), out('orders-events')];
      await appendToStream(db, s, 0, [...timeline(10), outgoing[0]!, ...timeline(10), outgoing[1]!, outgoing[2]!, ...timeline(25)]);
      relay.notify();
      await until('all published', () => target.published.length >= 3);
      expect(target.published.map((m) => m.id)).toEqual(outgoing.map((m) => m.id));
      // Past the 25 messages without a topic at the end, without their rows coming over.
      const end = await lastGlobalPosition(db);
      await until('past the messages without a topic', () => relay.stats.position.position === end.position);
      expect(rowsRead).toBe(3);
      await relay.stop();
      expect(await loadCheckpoint(db, name)).toEqual(end);

      // A mapping of one's own may publish anything: that relay reads every message.
      const all = new RecordingTarget();
      const own = await startAtEnd({ name: `relay-${randomUUID()}`, transport: all, toMessages: (m) => ({ id: m.id, topic: 'audit', key: m.stream, type: m.type, payload: m.data, headers: {} }) });
      const more = timeline(3);
      await appendToStream(db, uniqueStream('order'), 0, more);
      own.notify();
      await until('the audit copies published', () => all.published.length >= 3);
      expect(all.published.map((m) => m.type)).toEqual(['ordo.transition', 'ordo.transition', 'ordo.transition']);
      await own.stop();
    });

    it('after a short batch reads again only when a commit wakes it, not at once', async () => {
      const c = counting();
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, db: c.db, pollMs: 60_000 });
      expect(await relay.listening).toBe(true);
      await until('first look at the log', () => c.reads() >= 1);
      await appendToStream(db, uniqueStream(), 0, [out('orders')]);
      await until('published', () => target.published.length >= 1);
      await new Promise((r) => setTimeout(r, 300)); // its checkpoint save comes and goes meanwhile
      expect(c.reads()).toBe(2); // the first look and the one that found the message
      expect(c.saves()).toBe(1);
      await appendToStream(db, uniqueStream(), 0, [out('orders')]);
      await until('published again', () => target.published.length >= 2);
      expect(c.reads()).toBe(3);
      await relay.stop();
    });

    it('committed() after an append through its own Db wakes it once: not again where the Db woke it already', async () => {
      const c = counting();
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, db: c.db, pollMs: 60_000 });
      expect(await relay.listening).toBe(true);
      await until('first look at the log', () => c.reads() >= 1);
      await appendToStream(c.db, uniqueStream(), 0, [out('orders')]);
      relay.committed();
      await until('published', () => target.published.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      // A Db that wakes its own listeners did so inside the commit: committed() adds nothing.
      if (db.wakesOwnListeners) expect(c.reads()).toBe(2);
      else expect(c.reads()).toBeGreaterThanOrEqual(2);
      await relay.stop();
    });

    it('wakes when any connection commits an append to the log, without notify() and long before its poll', async () => {
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, pollMs: 600_000 });
      expect(await relay.listening).toBe(true);
      await new Promise((r) => setTimeout(r, 50)); // let it fall asleep on an empty log
      const m = out('orders');
      await appendToStream(db, uniqueStream(), 0, [m]);
      await until('published on the commit notification', () => target.published.length === 1);
      expect(target.published[0]?.id).toBe(m.id);
      await relay.stop();
    });

    it('wakes on notify() instead of waiting for the next poll, and stops promptly even mid-backoff', async () => {
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, pollMs: 600_000 });
      await new Promise((r) => setTimeout(r, 50)); // let it fall asleep on an empty log
      const m = out('orders');
      await appendToStream(db, uniqueStream(), 0, [m]);
      // Notify again while waiting: on a shared server an unrelated open transaction can hold the
      // read back for a moment, and this relay would otherwise not look again for 10 minutes.
      await until('published after notify', () => {
        relay.notify();
        return target.published.length === 1;
      });
      await relay.stop();

      const failing = new RecordingTarget();
      failing.failNext = Number.MAX_SAFE_INTEGER;
      const stuck = await startAtEnd({ name: `relay-${randomUUID()}`, transport: failing, backoff: { initialMs: 600_000, maxMs: 600_000 } });
      await appendToStream(db, uniqueStream(), 0, [out('orders')]);
      stuck.notify();
      await until('first attempt failed', () => failing.calls >= 1);
      await stuck.stop(); // must not wait out the 10-minute backoff
      expect(stuck.stats.published).toBe(0);
    });

    it.runIf(engine.concurrentTransactions)('holds back messages of a transaction still open, and publishes them when it commits', async () => {
      const target = new RecordingTarget();
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let appended!: () => void;
      const inTx = new Promise<void>((r) => (appended = r));
      const early = out('orders');
      const late = out('orders');
      const slow = db.transaction(async (tx) => {
        await appendToStream(tx, uniqueStream(), 0, [early]);
        appended();
        await held;
      });
      await inTx;
      await appendToStream(db, uniqueStream(), 0, [late]);
      relay.notify();
      await new Promise((r) => setTimeout(r, 100));
      expect(target.published).toEqual([]); // `late` committed, but the older `early` may still come
      release();
      await slow;
      relay.notify();
      await until('both published', () => target.published.length === 2);
      expect(target.published.map((m) => m.id)).toEqual([early.id, late.id]);
      await relay.stop();
    });

    it.runIf(engine.concurrentTransactions)('looks again soon when an older transaction that appends nothing held its message back', async () => {
      const target = new RecordingTarget();
      // No poll to fall back on: only a commit, or its own look-again, can find the message.
      const relay = await startAtEnd({ name: `relay-${randomUUID()}`, transport: target, pollMs: 600_000 });
      expect(await relay.listening).toBe(true);
      const m = out('orders');
      // A transaction with an id (as a projection batch has) that commits without appending: no wake-up.
      await whileHolding(db, async () => {
        await appendToStream(db, uniqueStream(), 0, [m]); // wakes the relay: held back
        await new Promise((r) => setTimeout(r, 100));
        expect(target.published).toEqual([]);
      });
      await until('published without another commit', () => target.published.length === 1);
      expect(target.published[0]?.id).toBe(m.id);
      await relay.stop();
    });

    it('of several relays with one name, one publishes; another takes over when it stops', async () => {
      const target = new RecordingTarget();
      const name = `relay-${randomUUID()}`;
      await saveCheckpoint(db, name, await lastGlobalPosition(db));
      const a = start({ name, transport: target });
      await until('a holds the lease', () => a.stats.leader);
      const b = start({ name, transport: target });
      const c = start({ name, transport: target });
      const s = uniqueStream();
      const first = Array.from({ length: 20 }, () => out('orders'));
      for (let i = 0; i < 4; i++) await appendToStream(db, s, i * 5, first.slice(i * 5, i * 5 + 5));
      for (const r of [a, b, c]) r.notify();
      await until('first published', () => target.published.length >= 20);
      expect([b.stats.leader, c.stats.leader, b.stats.published, c.stats.published]).toEqual([false, false, 0, 0]);

      await a.stop(); // releases the lease
      await until('a standby took over', () => b.stats.leader || c.stats.leader);
      const second = Array.from({ length: 5 }, () => out('orders'));
      await appendToStream(db, s, 20, second);
      for (const r of [b, c]) r.notify();
      await until('second published', () => target.published.length >= 25);
      await Promise.all([b.stop(), c.stop()]);
      expect(target.published.map((m) => m.id)).toEqual([...first, ...second].map((m) => m.id)); // each once, in order
    });

    it('a relay standing by is not woken by commits: it asks for the lease every pollMs only', async () => {
      const name = `relay-${randomUUID()}`;
      await saveCheckpoint(db, name, await lastGlobalPosition(db));
      const target = new RecordingTarget();
      const leader = start({ name, transport: target });
      await until('it holds the lease', () => leader.stats.leader);
      let claims = 0;
      const counted: Db = {
        ...db,
        query: (sql, params) => {
          if (sql.includes('SET owner = $2')) claims++; // claimLease's UPDATE
          return db.query(sql, params);
        },
      };
      const standby = start({ name, transport: target, db: counted, pollMs: 60_000 });
      await until('asked once', () => claims >= 1);
      for (let i = 0; i < 5; i++) {
        await appendToStream(db, uniqueStream(), 0, [out('orders')]);
        standby.notify();
      }
      await until('published', () => target.published.length >= 5);
      expect(claims).toBe(1);
      expect(standby.stats.leader).toBe(false);
      await standby.stop();
      await leader.stop();
    });

    it('rejects bad options with a typed error', () => {
      const target = new RecordingTarget();
      expect(() => startOutboxRelay({ db, transport: target, name: '' })).toThrow(/name/);
      expect(() => startOutboxRelay({ db, transport: target, name: 'x', batchSize: 0 })).toThrow(/batchSize/);
      expect(() => startOutboxRelay({ db, transport: target, name: 'x', pollMs: 1.5 })).toThrow(/pollMs/);
    });
  });
}
