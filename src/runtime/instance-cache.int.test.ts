import { afterEach, describe, expect, it } from 'vitest';
import { migrate, migrateStore, type Db, type Queryable } from '../store/index.js';
import { createMetrics } from '../observe/index.js';
import { orderMachine } from '../shop/index.js';
import { freshPglite, freshPostgres, sampleOrder, type FreshDatabase } from '../testing/index.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, type SagaEngine, type SagaEngineOptions } from './index.js';

/*
 * A batch of messages for sagas the engine committed last skips its load (process-batch.ts,
 * batch-from-cache.ts): one round trip. What the load would have found is only assumed, so
 * each assumption is broken here — by this engine, by another engine on the same database,
 * by another writer — and the outcome must be the one a batch with a load gets.
 */

/** The db, counting the calls that go to the database inside its transactions (round trips besides BEGIN/COMMIT). */
function countingRoundTrips(db: Db): { db: Db; calls: { n: number } } {
  const calls = { n: 0 };
  const counted = (tx: Queryable): Queryable => ({
    query: (sql, params) => ((calls.n += 1), tx.query(sql, params)),
    ...(tx.batch ? { batch: (statements: Parameters<NonNullable<Queryable['batch']>>[0], options?: { readonly commit?: boolean }) => ((calls.n += 1), tx.batch!(statements, options)) } : {}),
  });
  return { calls, db: { ...db, query: (sql, params) => db.query(sql, params), transaction: (fn) => db.transaction((tx) => fn(counted(tx))) } };
}

const engines: { name: string; fresh: () => Promise<FreshDatabase> }[] = [
  { name: 'PostgreSQL server', fresh: () => freshPostgres('runtime_cache') },
  { name: 'PGlite', fresh: () => freshPglite() },
];

describe.each(engines)('the instance cache on $name', ({ fresh }) => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function setup() {
    const d = await fresh();
    cleanup.push(() => d.close());
    await migrateStore(d.db);
    await migrate(d.db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    const counting = countingRoundTrips(d.db);
    const engine = async (options: Partial<SagaEngineOptions> = {}): Promise<SagaEngine> => {
      const e = createSagaEngine({ db: counting.db, machines: [orderMachine], pollIntervalMs: false, migrate: false, ...options });
      await e.start();
      cleanup.push(() => e.stop());
      return e;
    };
    const start = (e: SagaEngine, id: string) => e.startSaga(id, 'order', sampleOrder(id), { first: { id: `${id}:created`, type: 'OrderCreated' } });
    const reply = (e: SagaEngine, id: string, type: string, payload: object, messageId = `${id}:${type}`) => e.deliver([{ id: messageId, key: id, type, payload }]);
    const row = async (id: string) => (await d.db.query<{ state: string; status: string; revision: number }>('SELECT state, status, revision FROM ordo_saga_instances WHERE id = $1', [id])).rows[0];
    return { db: d.db, calls: counting.calls, engine, start, reply, row };
  }

  it('takes one round trip for a message to a saga it committed last, two without the cache', async () => {
    const { calls, engine, start, reply } = await setup();
    for (const [size, trips] of [
      [10_000, 1],
      [0, 2],
    ] as const) {
      const e = await engine({ instanceCacheSize: size });
      await start(e, `o-${size}`);
      calls.n = 0;
      const [r] = await reply(e, `o-${size}`, 'InventoryReserved', { reservationId: 'r' });
      expect(r).toMatchObject({ status: 'applied', state: 'PAYMENT_PROCESSING' });
      expect(calls.n).toBe(trips);
    }
  });

  it('keeps awkward text in the snapshot and the log as it was, from the cache and loaded', async () => {
    const { db, engine, reply } = await setup();
    const awkward = `O'Brien \\ "quoted" ünï 🚀 $1 -- \n end`;
    for (const size of [10_000, 0]) {
      const e = await engine({ instanceCacheSize: size });
      const id = `o-awkward-${size}`;
      await e.startSaga(id, 'order', { ...sampleOrder(id), customerId: awkward }, { first: { id: `${id}:created`, type: 'OrderCreated' } });
      expect((await reply(e, id, 'InventoryReserved', { reservationId: awkward }))[0]).toMatchObject({ status: 'applied', state: 'PAYMENT_PROCESSING' });
      expect((await e.getSaga(id))?.snapshot.context).toMatchObject({ customerId: awkward, reservationId: awkward });
      const sent = await db.query<{ data: { customerId?: string } }>("SELECT data FROM ordo_messages WHERE type = 'ProcessPayment' AND metadata->>'key' = $1", [id]);
      expect(sent.rows.map((r) => r.data.customerId)).toEqual([awkward]);
    }
  });

  it('drops a duplicate of a message it applied, as with a load', async () => {
    const { engine, start, reply, row } = await setup();
    const e = await engine();
    await start(e, 'o-1');
    expect((await reply(e, 'o-1', 'InventoryReserved', { reservationId: 'r' }))[0]).toMatchObject({ status: 'applied' });
    const revision = (await row('o-1'))?.revision;
    expect((await reply(e, 'o-1', 'InventoryReserved', { reservationId: 'r' }))[0]).toMatchObject({ status: 'duplicate' });
    expect((await row('o-1'))?.revision).toBe(revision);
  });

  it('sees a row another writer changed without a new revision (as a step failure that parks the saga does)', async () => {
    const { db, engine, start, reply, row } = await setup();
    const metrics = createMetrics();
    const e = await engine({ metrics, metricsService: 'orders' });
    const batches = async () => Object.fromEntries((await metrics.engineBatches.get()).values.map((v) => [String(v.labels.load), v.value]));
    await start(e, 'o-1');
    await reply(e, 'o-1', 'InventoryReserved', { reservationId: 'r' });
    await db.query(`UPDATE ordo_saga_instances SET status = 'parked' WHERE id = $1`, ['o-1']);
    // A late second answer: ignored in PAYMENT_PROCESSING, but written (its timeline entry) — with the row as it is now.
    expect((await reply(e, 'o-1', 'InventoryReserved', { reservationId: 'r' }, 'late-copy'))[0]).toMatchObject({ status: 'applied', changed: false });
    expect(await row('o-1')).toMatchObject({ state: 'PAYMENT_PROCESSING', status: 'parked' });
    // Counted: the start and the first answer from the cache, the late copy's miss and its batch with a load.
    expect(await batches()).toEqual({ cache: 2, 'cache-miss': 1, loaded: 1 });
  });

  it('applies a message another engine parked for the saga once the saga can take it', async () => {
    const { engine, start, reply, row } = await setup();
    const a = await engine();
    const b = await engine();
    await start(a, 'o-1');
    expect((await reply(b, 'o-1', 'PaymentApproved', { paymentId: 'p' }))[0]).toMatchObject({ status: 'parked' });
    await reply(a, 'o-1', 'InventoryReserved', { reservationId: 'r' });
    expect((await row('o-1'))?.state).toBe('PREPARING_SHIPMENT');
  });

  it('parks a message that came too early and applies it later, never taking it for a duplicate', async () => {
    const { engine, start, reply, row } = await setup();
    const e = await engine();
    await start(e, 'o-1');
    expect((await reply(e, 'o-1', 'PaymentApproved', { paymentId: 'p' }))[0]).toMatchObject({ status: 'parked' });
    await reply(e, 'o-1', 'InventoryReserved', { reservationId: 'r' });
    expect((await row('o-1'))?.state).toBe('PREPARING_SHIPMENT');
  });

  it('applies the first event of a start retried after one that was refused', async () => {
    const { engine, row } = await setup();
    const e = await engine();
    // Its first event was refused (a type the machine does not know), so nothing started; the retry's is sound.
    await expect(e.startSaga('o-1', 'order', sampleOrder('o-1'), { first: { id: 'o-1:created', type: 'NoSuchEvent' } })).rejects.toThrow(/NoSuchEvent is unknown/);
    expect(await e.startSaga('o-1', 'order', sampleOrder('o-1'), { first: { id: 'o-1:created', type: 'OrderCreated' } })).toMatchObject({ status: 'started', state: 'INVENTORY_RESERVING' });
    expect((await row('o-1'))?.state).toBe('INVENTORY_RESERVING');
  });

  it('follows a saga another engine moved on', async () => {
    const { engine, start, reply, row } = await setup();
    const a = await engine();
    const b = await engine();
    await start(a, 'o-1');
    await reply(b, 'o-1', 'InventoryReserved', { reservationId: 'r' });
    expect((await reply(a, 'o-1', 'PaymentApproved', { paymentId: 'p' }))[0]).toMatchObject({ status: 'applied', state: 'PREPARING_SHIPMENT' });
    // Another engine's start of a saga this one has not seen: `exists`, nothing changed.
    await start(b, 'o-2');
    const before = await row('o-2');
    expect(await start(a, 'o-2')).toMatchObject({ status: 'exists', state: 'INVENTORY_RESERVING' });
    expect(await row('o-2')).toEqual(before);
  });

  it('dead-letters a poison message for a cached saga while its batchmates commit', async () => {
    const { engine, start, row } = await setup();
    const e = await engine();
    await start(e, 'o-1');
    await start(e, 'o-2');
    const [poison, good] = await e.deliver([
      { id: 'bad', key: 'o-1', type: 'NoSuchEvent', payload: {} },
      { id: 'good', key: 'o-2', type: 'InventoryReserved', payload: { reservationId: 'r' } },
    ]);
    expect(poison).toMatchObject({ status: 'dead-lettered' });
    expect(good).toMatchObject({ status: 'applied', state: 'PAYMENT_PROCESSING' });
    expect((await row('o-1'))?.state).toBe('INVENTORY_RESERVING');
  });
});
