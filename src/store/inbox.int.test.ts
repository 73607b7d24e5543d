import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessTransport, type Transport } from '../transport/index.js';
import type { Db, Queryable } from './db.js';
import { appendToStream, handleOnce, inboxContains, InvalidStoreInputError, migrateStore, recordInbox, saveCheckpoint, startOutboxRelay, LOG_START, type RelayTarget } from './index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/fresh-database.js';

interface Reservation {
  readonly id: string;
  readonly sku: string;
  readonly quantity: number;
}

async function reserve(tx: Queryable, r: Reservation): Promise<void> {
  await tx.query('UPDATE inbox_stock SET reserved = reserved + $2 WHERE sku = $1', [r.sku, r.quantity]);
}

const engines: [string, () => Promise<FreshDatabase>][] = [
  ['PostgreSQL server', () => freshPostgres('inbox', 24)],
  ['PGlite (in memory)', freshPglite],
];

describe.each(engines)('inbox: %s', (_name, open) => {
  let t: FreshDatabase;
  let db: Db;
  beforeAll(async () => {
    t = await open();
    db = t.db;
    await migrateStore(db);
    await db.query('CREATE TABLE inbox_stock (sku text PRIMARY KEY, reserved int NOT NULL DEFAULT 0)');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('duplicate and reordered deliveries apply each message exactly once', async () => {
    const message = fc.record({ sku: fc.constantFrom('a', 'b', 'c'), quantity: fc.integer({ min: 1, max: 5 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 36, maxLength: 36 }), // sort keys: 12 messages × 3 copies at most
        async (drafts, copies, order) => {
          const run = randomUUID().slice(0, 8);
          const messages: Reservation[] = drafts.map((d) => ({ id: randomUUID(), sku: `${run}-${d.sku}`, quantity: d.quantity }));
          for (const sku of new Set(messages.map((m) => m.sku))) await db.query('INSERT INTO inbox_stock (sku) VALUES ($1)', [sku]);
          // Every message 1–3 times, in a random order: what an at-least-once broker may do.
          const deliveries = messages.flatMap((m, i) => Array.from({ length: copies[i] ?? 1 }, () => m));
          const shuffled = deliveries.map((d, i) => ({ d, k: order[i] ?? 0 })).sort((x, y) => x.k - y.k).map((x) => x.d);
          // Concurrently, so duplicates of one message race each other on the server.
          const results = await Promise.all(shuffled.map((m) => handleOnce(db, `consumer-${run}`, m.id, (tx) => reserve(tx, m))));
          expect(results.filter((r) => !r.duplicate)).toHaveLength(messages.length);

          const expected = new Map<string, number>();
          for (const m of messages) expected.set(m.sku, (expected.get(m.sku) ?? 0) + m.quantity);
          const actual = await db.query<{ sku: string; reserved: number }>('SELECT sku, reserved FROM inbox_stock WHERE sku LIKE $1', [`${run}-%`]);
          expect(new Map(actual.rows.map((r) => [r.sku, r.reserved]))).toEqual(expected);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('inboxContains sees a message once its record committed, for that consumer only', async () => {
    const consumer = `consumer-${randomUUID()}`;
    const id = randomUUID();
    expect(await inboxContains(db, consumer, id)).toBe(false);
    // A handler that fails rolls its inbox record back: the message is still to be handled.
    await expect(
      db.transaction(async (tx) => {
        await recordInbox(tx, consumer, id);
        expect(await inboxContains(tx, consumer, id)).toBe(true);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await inboxContains(db, consumer, id)).toBe(false);

    await handleOnce(db, consumer, id, () => Promise.resolve());
    expect(await inboxContains(db, consumer, id)).toBe(true);
    expect(await inboxContains(db, `${consumer}-other`, id)).toBe(false);
    expect(await inboxContains(db, consumer, randomUUID())).toBe(false);
    await expect(inboxContains(db, '', id)).rejects.toThrow(InvalidStoreInputError);
    await expect(inboxContains(db, consumer, '')).rejects.toThrow(InvalidStoreInputError);
  });

  it('end to end: outbox relay → in-process transport → inbox, with the log republished from the start', async () => {
    // dedup off, so the republished copies really reach the handler.
    const transport: Transport = createInProcessTransport({ dedupWindowMs: 0 });
    const target: RelayTarget = transport; // any Transport can be the relay's target
    const topic = `inventory-${randomUUID().slice(0, 8)}`;
    const sku = `e2e-${randomUUID().slice(0, 8)}`;
    await db.query('INSERT INTO inbox_stock (sku) VALUES ($1)', [sku]);
    let deliveries = 0;
    const sub = await transport.subscribe({
      topic,
      group: 'inventory',
      handler: async ({ message }) => {
        deliveries++;
        await handleOnce(db, 'inventory', message.id, (tx) => reserve(tx, { id: message.id, sku, quantity: (message.payload as { quantity: number }).quantity }));
      },
    });
    const name = `relay-${randomUUID()}`;
    await saveCheckpoint(db, name, LOG_START);
    const orders = Array.from({ length: 5 }, () => `order-${randomUUID()}`);
    for (const [i, order] of orders.entries()) {
      await db.transaction((tx) =>
        appendToStream(tx, order, 0, [
          { type: 'OrderCreated', data: { i } },
          { type: 'ReserveInventory', data: { quantity: i + 1 }, metadata: { topic, correlationId: order } },
        ]),
      );
    }
    const first = startOutboxRelay({ db, transport: target, name, pollMs: 10 });
    await vi.waitFor(() => expect(deliveries).toBe(5), { timeout: 15_000 });
    await first.stop();
    // A relay that lost its checkpoint publishes everything again.
    await saveCheckpoint(db, name, LOG_START);
    const again = startOutboxRelay({ db, transport: target, name, pollMs: 10 });
    await vi.waitFor(() => expect(deliveries).toBe(10), { timeout: 15_000 });
    await again.stop();
    await sub.close();
    await transport.close();
    const stock = await db.query<{ reserved: number }>('SELECT reserved FROM inbox_stock WHERE sku = $1', [sku]);
    expect(stock.rows[0]?.reserved).toBe(1 + 2 + 3 + 4 + 5); // effects once, deliveries twice
  });
});
