import { describe, expect, it } from 'vitest';
import { appendToStream, loadCheckpoint, migrateStore, readStream, type Db, type Queryable } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { orderDecider, orderStream, type OrderCommand } from '../shop/order-aggregate.js';
import { listOrders, orderViewProjection, type OrderView } from '../shop/order-view.js';
import { aggregateStream, handleCommand } from './command-handler.js';
import { InvalidQueryError } from './errors.js';
import { migrateEventsourcing } from './eventsourcing-migrations.js';
import { applyProjection, defineProjection } from './projection.js';
import { projectBatch, startProjector } from './projector.js';
import { rebuildProjection, type RebuildProgress } from './rebuild.js';

const engines = bothEngines('es_proj');

/** The log, eventsourcing's tables and an empty order_view. */
const withOrderView = async (d: Db): Promise<void> => {
  await migrateStore(d);
  await migrateEventsourcing(d);
  await orderViewProjection.setup(d, orderViewProjection.table);
};

const paths: OrderCommand[][] = [
  [{ type: 'ReserveInventory' }, { type: 'ConfirmInventoryReserved', reservationId: 'r' }, { type: 'ConfirmPayment', paymentId: 'p' }],
  [{ type: 'ReserveInventory' }, { type: 'RejectInventory', reason: 'out of stock' }],
  [{ type: 'CancelOrder', reason: 'oops' }],
  [{ type: 'ReserveInventory' }],
];

async function placeOrders(db: Db, prefix: string, n: number, inline: boolean): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(3, '0')}`;
    const opts = inline ? { projections: [orderViewProjection] } : {};
    await handleCommand(db, orderDecider, orderStream(id), { type: 'CreateOrder', orderId: id, customerId: `cust-${i % 3}`, items: [{ sku: 'S', quantity: 1 + (i % 4), unitPrice: 250 }] }, opts);
    for (const c of paths[i % paths.length] ?? []) await handleCommand(db, orderDecider, orderStream(id), c, opts);
  }
}

async function allRows(q: Queryable): Promise<OrderView[]> {
  const out: OrderView[] = [];
  let cursor: string | undefined;
  do {
    const page = await listOrders(q, { limit: 7, ...(cursor ? { cursor } : {}) });
    out.push(...page.orders);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** The view must agree with the aggregate: status and version from the order's own stream. */
async function expectViewMatchesAggregates(db: Db, rows: readonly OrderView[]): Promise<void> {
  for (const row of rows) {
    const loaded = await aggregateStream(db, orderDecider, orderStream(row.orderId));
    expect([row.orderId, row.status, row.version]).toEqual([row.orderId, loaded.state?.state, loaded.version]);
  }
}

describe.each(engines)('projections on %s', (engine, open) => {
  let db: Db;
  databaseForSuite(open, withOrderView, (d) => (db = d));

  it('an async projector catches up from its checkpoint and the view answers search and paging', async () => {
    await placeOrders(db, 'a', 24, false);
    const projector = startProjector(db, orderViewProjection, { batchSize: 10, pollMs: 50 });
    try {
      await projector.catchUp();
      expect(projector.stats().messages).toBeGreaterThan(24);
      const rows = await allRows(db);
      expect(rows.map((r) => r.orderId)).toEqual(Array.from({ length: 24 }, (_, i) => `a-${String(23 - i).padStart(3, '0')}`));
      await expectViewMatchesAggregates(db, rows);
      const processing = await listOrders(db, { status: 'PREPARING_SHIPMENT' });
      expect(processing.orders.length).toBeGreaterThan(0);
      expect(processing.orders.every((o) => o.status === 'PREPARING_SHIPMENT')).toBe(true);
      const canceled = await listOrders(db, { status: 'CANCELED', customerId: 'cust-1', limit: 500 });
      expect(canceled.orders.every((o) => o.customerId === 'cust-1' && o.failureReason !== null)).toBe(true);
      expect(canceled.orders.find((o) => o.orderId === 'a-001')).toMatchObject({ failureReason: 'InventoryInsufficient: out of stock', total: 500 });

      // New commands after the projector caught up are picked up (notify or poll).
      await placeOrders(db, 'b', 3, false);
      await projector.catchUp();
      expect((await allRows(db)).length).toBe(27);
      const checkpoint = await loadCheckpoint(db, 'order_view');
      expect(checkpoint).toEqual(projector.stats().position);
    } finally {
      await projector.stop();
    }
    // Caught up: a further batch reads nothing and repeats nothing.
    expect((await projectBatch(db, orderViewProjection)).read).toBe(0);
  });

  it('a failing batch is retried from the same checkpoint: nothing skipped, nothing applied twice', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS es_test_seen (id text PRIMARY KEY)');
    let failures = 1;
    const flaky = defineProjection({
      name: 'flaky_seen',
      table: 'es_test_seen',
      canHandle: ['ordo.transition'],
      setup: () => Promise.resolve(),
      async handle(messages, { q }) {
        for (const m of messages) await q.query('INSERT INTO es_test_seen VALUES ($1)', [m.id]); // a repeat would violate the key
        if (failures-- > 0) throw new Error('flaky read model');
      },
    });
    const errors: unknown[] = [];
    const projector = startProjector(db, flaky, { batchSize: 50, pollMs: 20, onError: (e) => errors.push(e) });
    await projector.catchUp();
    await projector.stop();
    expect(errors).toHaveLength(1);
    expect(projector.stats().errors).toBe(1);
    const seen = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM es_test_seen');
    const logged = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_messages WHERE type = 'ordo.transition'`);
    expect(seen.rows[0]?.n).toBe(logged.rows[0]?.n);
  });

  it('two projectors of one projection (two processes) apply every message once, whoever takes each batch', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS es_test_applied (id text PRIMARY KEY, n integer NOT NULL)');
    const counted = defineProjection({
      name: 'counted_twice_over',
      table: 'es_test_applied',
      canHandle: ['Tick'],
      setup: () => Promise.resolve(),
      async handle(messages, { q }) {
        // A message applied again (a batch read from a checkpoint that had moved on) counts 2.
        for (const m of messages) await q.query('INSERT INTO es_test_applied VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = es_test_applied.n + 1', [m.id]);
      },
    });
    const a = startProjector(db, counted, { batchSize: 5, pollMs: 5 });
    const b = startProjector(db, counted, { batchSize: 5, pollMs: 5 });
    try {
      for (let i = 0; i < 40; i++) {
        await appendToStream(db, `ticks-${i}`, 0, Array.from({ length: 5 }, () => ({ type: 'Tick', data: {} })));
        a.notify();
        b.notify();
      }
      await a.catchUp();
      await b.catchUp();
    } finally {
      await a.stop();
      await b.stop();
    }
    const r = await db.query<{ rows: number; applied: number }>('SELECT count(*)::int AS rows, coalesce(sum(n), 0)::int AS applied FROM es_test_applied');
    expect(r.rows[0]).toEqual({ rows: 200, applied: 200 });
  });

  it('with gatherMs, the commits notified within the window share one batch', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS es_test_gathered (id text PRIMARY KEY)');
    const gathered = defineProjection({
      name: 'gathered',
      table: 'es_test_gathered',
      canHandle: ['Gathered'],
      setup: () => Promise.resolve(),
      async handle(messages, { q }) {
        for (const m of messages) await q.query('INSERT INTO es_test_gathered VALUES ($1)', [m.id]);
      },
    });
    const projector = startProjector(db, gathered, { pollMs: 600_000, gatherMs: 1_000 });
    try {
      await projector.catchUp(); // whatever the log held before: its own batch
      const before = projector.stats().batches;
      for (let i = 0; i < 5; i++) {
        await appendToStream(db, `gathered-${i}`, 0, [{ type: 'Gathered', data: {} }]);
        projector.notify();
      }
      await projector.catchUp();
      expect(projector.stats().batches - before).toBe(1);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM es_test_gathered')).rows[0]?.n).toBe(5);
    } finally {
      await projector.stop();
    }
    expect(() => startProjector(db, gathered, { gatherMs: -1 })).toThrow(RangeError);
  });

  it('refuses bad queries with the field at fault', async () => {
    await expect(listOrders(db, { limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(listOrders(db, { status: 'LOST' })).rejects.toMatchObject({ field: 'status' });
    await expect(listOrders(db, { cursor: 'garbage' })).rejects.toBeInstanceOf(InvalidQueryError);
  });

  it('rebuild replays the log into a fresh table and swaps it in (async projection: checkpoint moves)', async () => {
    const before = await allRows(db);
    await db.query(`UPDATE order_view SET status = 'DELIVERED', failure_reason = 'corrupted'`);
    const progress: RebuildProgress[] = [];
    const r = await rebuildProjection(db, orderViewProjection, { batchSize: 25, onProgress: (p) => progress.push(p) });
    expect(r).toMatchObject({ mode: 'async', builtAs: expect.stringMatching(/^order_view_rebuild_\d+$/) as string });
    expect(await loadCheckpoint(db, 'order_view')).toEqual(r.position);
    // Whatever an open transaction elsewhere on the server kept back is the projector's job.
    const projector = startProjector(db, orderViewProjection, { pollMs: 50 });
    await projector.catchUp();
    await projector.stop();
    expect(await allRows(db)).toEqual(before);
    expect(progress.at(-1)).toMatchObject({ phase: 'swapped', messages: r.messages });
    expect(progress.filter((p) => p.phase === 'replay').length).toBeGreaterThan(1);
    const idx = await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'order_view' ORDER BY indexname`);
    expect(idx.rows.map((x) => x.indexname)).toEqual(['order_view_created', 'order_view_customer', 'order_view_pkey', 'order_view_status', 'order_view_stream']);
    const leftovers = await db.query(`SELECT 1 FROM pg_tables WHERE tablename LIKE 'order_view_%'`);
    expect(leftovers.rows).toHaveLength(0);
  });

  it.runIf(engine === 'postgres')('inline rebuild keeps a later commit whose transaction id is above an open writer', async () => {
    // A appends first (lower transaction id) and stays open; C appends later and commits.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let appended!: () => void;
    const aAppended = new Promise<void>((r) => (appended = r));
    const writerA = db.transaction(async (tx) => {
      const r = orderDecider.decide({ type: 'CreateOrder', orderId: 'gap-a', customerId: 'c', items: [{ sku: 'S', quantity: 1, unitPrice: 1 }] }, null);
      await appendToStream(tx, orderStream('gap-a'), 'no_stream', r.map((e) => ({ type: e.type, data: e.data, metadata: { ...e.metadata } })));
      appended();
      await gate;
      await applyProjection(orderViewProjection, await readStream(tx, orderStream('gap-a')), tx);
    });
    await aAppended;
    await handleCommand(db, orderDecider, orderStream('gap-c'), { type: 'CreateOrder', orderId: 'gap-c', customerId: 'c', items: [{ sku: 'S', quantity: 1, unitPrice: 1 }] }, { projections: [orderViewProjection] });
    await rebuildProjection(db, orderViewProjection, { mode: 'inline' });
    release();
    await writerA;
    const ids = (await allRows(db)).map((r) => r.orderId);
    expect(ids).toContain('gap-c');
    expect(ids).toContain('gap-a');
  });

  it.runIf(engine === 'postgres')('inline rebuild under concurrent writers and readers: readers never fail, nothing is lost', async () => {
    let stop = false;
    let reads = 0;
    const readerErrors: unknown[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (!stop) {
        try {
          await listOrders(db, { limit: 20 });
          reads++;
        } catch (err) {
          readerErrors.push(err);
        }
      }
    });
    const writers = Array.from({ length: 3 }, (_, w) => placeOrders(db, `w${w}`, 8, true));
    await new Promise((r) => setTimeout(r, 100));
    await rebuildProjection(db, orderViewProjection, { mode: 'inline', batchSize: 20 });
    await Promise.all(writers);
    stop = true;
    await Promise.all(readers);
    expect(readerErrors).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    const rows = await allRows(db);
    expect(rows.filter((r) => r.orderId.startsWith('w')).length).toBe(24);
    await expectViewMatchesAggregates(db, rows);
  });
});
