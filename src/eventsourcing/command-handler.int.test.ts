import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '../machine/index.js';
import { appendToStream, ExpectedVersionConflictError, migrateStore, readStream, streamVersion, type Db, type Queryable } from '../store/index.js';
import { bothEngines, databaseForSuite } from '../testing/suite-database.js';
import { orderDecider, orderStream, ORDER_STATE_SCHEMA, type OrderCommand } from '../shop/order-aggregate.js';
import { getOrderView, orderViewProjection } from '../shop/order-view.js';
import { aggregateStream, handleCommand, handleCommandInTransaction } from './command-handler.js';
import { foldEvents } from './decider.js';
import { ConcurrencyRetriesExhaustedError } from './errors.js';
import { migrateEventsourcing } from './eventsourcing-migrations.js';
import { defineProjection } from './projection.js';

const engines = bothEngines('es_cmd');

/** The log, eventsourcing's tables and an empty order_view. */
const withOrderView = async (d: Db): Promise<void> => {
  await migrateStore(d);
  await migrateEventsourcing(d);
  await orderViewProjection.setup(d, orderViewProjection.table);
};

const create = (orderId: string): OrderCommand => ({ type: 'CreateOrder', orderId, customerId: 'c1', items: [{ sku: 'A', quantity: 1, unitPrice: 500 }] });
const lifecycle: OrderCommand[] = [
  { type: 'ReserveInventory' },
  { type: 'ConfirmInventoryReserved', reservationId: 'r1' },
  { type: 'ConfirmPayment', paymentId: 'p1' },
  { type: 'ShipOrder', trackingNumber: 't1' },
  { type: 'ConfirmDelivery' },
];

/** Counts the log rows each query returns, to show what loading really reads. */
function counting(q: Queryable): Queryable & { logRows: number } {
  const wrapped = {
    logRows: 0,
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const r = await q.query<R>(sql, params);
      if (/FROM ordo_messages/.test(sql)) wrapped.logRows += r.rows.length;
      return r;
    },
  };
  return wrapped;
}

describe.each(engines)('command handler on %s', (engine, open) => {
  let db: Db;
  databaseForSuite(open, withOrderView, (d) => (db = d));

  it('loads, decides and appends with the expected version; the state is the fold of the stored events', async () => {
    const stream = orderStream('h1');
    let r = await handleCommand(db, orderDecider, stream, create('h1'), { metadata: { correlationId: 'corr-1' } });
    for (const c of lifecycle) r = await handleCommand(db, orderDecider, stream, c);
    expect(r.state?.state).toBe('DELIVERED');
    expect(r.nextExpectedVersion).toBe(6);
    const stored = await readStream(db, stream);
    expect(stored.map((m) => m.type)).toEqual(['ordo.transition', ...lifecycle.map(() => 'ordo.transition')]);
    expect(stored[0]?.metadata).toMatchObject({ correlationId: 'corr-1', machine: 'order', schemaVersion: 1 });
    expect(foldEvents(orderDecider, stored as never[])).toEqual(r.state);
    expect((await aggregateStream(db, orderDecider, stream)).state).toEqual(r.state);
  });

  it('a refused command writes nothing and is not retried', async () => {
    const stream = orderStream('h2');
    await handleCommand(db, orderDecider, stream, create('h2'));
    await expect(handleCommand(db, orderDecider, stream, { type: 'ShipOrder', trackingNumber: 't' })).rejects.toBeInstanceOf(InvalidTransitionError);
    expect(await streamVersion(db, stream)).toBe(1);
  });

  it('an expectedVersion the stream no longer has fails at once', async () => {
    const stream = orderStream('h3');
    await handleCommand(db, orderDecider, stream, create('h3'));
    await expect(handleCommand(db, orderDecider, stream, { type: 'ReserveInventory' }, { expectedVersion: 0 })).rejects.toBeInstanceOf(ExpectedVersionConflictError);
    const ok = await handleCommand(db, orderDecider, stream, { type: 'ReserveInventory' }, { expectedVersion: 1 });
    expect(ok.nextExpectedVersion).toBe(2);
  });

  it('runs inline projections in the append transaction: a failing projection leaves neither event nor row', async () => {
    const stream = orderStream('h4');
    await handleCommand(db, orderDecider, stream, create('h4'), { projections: [orderViewProjection] });
    expect(await getOrderView(db, 'h4')).toMatchObject({ orderId: 'h4', status: 'INITIATED', total: 500, version: 1 });
    const broken = defineProjection({ ...orderViewProjection, name: 'broken', handle: () => Promise.reject(new Error('projection down')) });
    await expect(handleCommand(db, orderDecider, stream, { type: 'ReserveInventory' }, { projections: [orderViewProjection, broken] })).rejects.toThrow('projection down');
    expect(await streamVersion(db, stream)).toBe(1);
    expect(await getOrderView(db, 'h4')).toMatchObject({ status: 'INITIATED', version: 1 });
  });

  it('concurrent commands on one stream all land, in order, through retries', async () => {
    const stream = orderStream('h5');
    await handleCommand(db, orderDecider, stream, create('h5'));
    await handleCommand(db, orderDecider, stream, { type: 'ReserveInventory' });
    await handleCommand(db, orderDecider, stream, { type: 'ConfirmInventoryReserved', reservationId: 'r' });
    // CancelRequested moves PAYMENT_PROCESSING on; the following ones are ignored (nothing appended).
    const results = await Promise.all(Array.from({ length: 6 }, () => handleCommand(db, orderDecider, stream, { type: 'CancelOrder', reason: 'race' }, { maxRetries: 10 })));
    expect(results.filter((r) => r.newEvents.length === 1)).toHaveLength(1);
    expect(await streamVersion(db, stream)).toBe(4);
  });

  it.runIf(engine === 'postgres')('gives up after maxRetries when another writer always wins', async () => {
    const stream = orderStream('h6');
    await handleCommand(db, orderDecider, stream, create('h6'));
    let interfere = 0;
    // Another connection appends after each load (the attempt's first query, without
    // snapshots) and before the append (its second).
    const racing: Db = {
      ...db,
      transaction: (fn) => {
        let queries = 0;
        return db.transaction((tx) =>
          fn({
            query: async (sql, params) => {
              if (++queries === 2) {
                interfere++;
                await appendToStream(db, stream, 'any', [{ type: 'Noise', data: {} }]);
              }
              return tx.query(sql, params);
            },
          }),
        );
      },
    };
    const err = await handleCommand(racing, orderDecider, stream, { type: 'ReserveInventory' }, { maxRetries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConcurrencyRetriesExhaustedError);
    expect(err).toMatchObject({ attempts: 3, retryable: true });
    expect(interfere).toBe(3);
    expect((await readStream(db, stream)).map((m) => m.type)).toEqual(['ordo.transition', 'Noise', 'Noise', 'Noise']);
  });

  it("handleCommandInTransaction commits and rolls back with the caller's other writes", async () => {
    await db.query('CREATE TABLE IF NOT EXISTS es_test_idempotency (key text PRIMARY KEY)');
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO es_test_idempotency VALUES ('k1')`);
      await handleCommandInTransaction(tx, orderDecider, orderStream('h8'), create('h8'), { projections: [orderViewProjection] });
    });
    expect(await streamVersion(db, orderStream('h8'))).toBe(1);
    await expect(
      db.transaction(async (tx) => {
        await handleCommandInTransaction(tx, orderDecider, orderStream('h9'), create('h9'), { projections: [orderViewProjection] });
        await tx.query(`INSERT INTO es_test_idempotency VALUES ('k1')`); // duplicate key: the whole transaction fails
      }),
    ).rejects.toThrow();
    expect(await streamVersion(db, orderStream('h9'))).toBe(0);
    expect(await getOrderView(db, 'h9')).toBeUndefined();
  });

  it('snapshots every N events; loading reads only the events after the snapshot', async () => {
    const stream = orderStream('h7');
    const snapshots = { every: 3, schema: ORDER_STATE_SCHEMA };
    await handleCommand(db, orderDecider, stream, create('h7'), { snapshots });
    for (const c of lifecycle) await handleCommand(db, orderDecider, stream, c, { snapshots });
    // 6 events: snapshots after 3 and 6. Add one more event by hand after the snapshot.
    await appendToStream(db, stream, 6, [{ type: 'Noise', data: {} }]);
    const q = counting(db);
    const loaded = await aggregateStream(q, orderDecider, stream, { snapshots });
    expect(loaded).toMatchObject({ version: 7, fromSnapshot: 6, messagesRead: 1 });
    expect(q.logRows).toBe(1);
    const full = counting(db);
    const replayed = await aggregateStream(full, orderDecider, stream);
    expect(full.logRows).toBe(7);
    expect(loaded.state).toEqual(replayed.state);
    // A snapshot of another shape (an older machine version) is ignored, not trusted.
    const other = await aggregateStream(counting(db), orderDecider, stream, { snapshots: { every: 3, schema: 'machine:order@0' } });
    expect(other).toMatchObject({ version: 7, messagesRead: 7 });
    expect(other.fromSnapshot).toBeUndefined();
  });
});
