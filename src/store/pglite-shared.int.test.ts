import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './db.js';
import { openSharedPglite, type SharedPglite } from './pglite-shared.js';
import { appendToStream } from './append.js';
import { LOG_CHANNEL, migrateStore } from './store-migrations.js';

// One embedded cluster for several services: each owns its schema and role, and none can
// reach another's tables, however it names them.
describe('shared PGlite cluster', () => {
  let cluster: SharedPglite;
  let orders: Db;
  let payment: Db;
  beforeAll(async () => {
    cluster = await openSharedPglite();
    orders = await cluster.open('orders');
    payment = await cluster.open('payment');
  });
  afterAll(async () => {
    await orders.close();
    await payment.close();
  });

  it('gives each owner tables of its own under the same names', async () => {
    await orders.exec!('CREATE TABLE items (id int PRIMARY KEY, what text)');
    await payment.exec!('CREATE TABLE items (id int PRIMARY KEY, what text)');
    await orders.query('INSERT INTO items VALUES (1, $1)', ['tea']);
    await payment.transaction(async (tx) => void (await tx.query('INSERT INTO items VALUES (1, $1)', ['card'])));
    expect((await orders.query('SELECT what FROM items')).rows).toEqual([{ what: 'tea' }]);
    expect((await payment.query('SELECT what FROM items')).rows).toEqual([{ what: 'card' }]);
  });

  it("refuses another owner's schema, read or write", async () => {
    await expect(payment.query('SELECT * FROM orders.items')).rejects.toThrow(/permission denied/);
    await expect(payment.query("INSERT INTO orders.items VALUES (2, 'stolen')")).rejects.toThrow(/permission denied/);
    expect((await orders.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 1 }]);
  });

  it('runs interleaved work of several owners each as itself', async () => {
    const who = (db: Db) => db.transaction(async (tx) => (await tx.query<{ u: string; s: string }>('SELECT current_user AS u, current_schema() AS s')).rows[0]);
    const seen = await Promise.all([who(orders), who(payment), who(orders), who(payment)]);
    expect(seen).toEqual([
      { u: 'orders', s: 'orders' },
      { u: 'payment', s: 'payment' },
      { u: 'orders', s: 'orders' },
      { u: 'payment', s: 'payment' },
    ]);
  });

  // No SQL NOTIFY in the shared cluster: every writer is in this process, so a relay is woken
  // directly — by a commit through any Db opened for the same owner, and by no other owner's.
  it("wakes an owner's log listeners after an appending commit through any of its Dbs, and no one else's", async () => {
    const writer = await cluster.open('orders'); // a second Db of the owner, as the gateway has
    try {
      await migrateStore(orders);
      await migrateStore(payment);
      let woken = 0;
      let paymentWoken = 0;
      const stop = await orders.listen!(LOG_CHANNEL, () => void (woken += 1));
      const stopPayment = await payment.listen!(LOG_CHANNEL, () => void (paymentWoken += 1));
      await writer.transaction((tx) => appendToStream(tx, 'order-1', 0, [{ type: 'Placed', data: {} }]));
      expect(woken).toBe(1);
      await appendToStream(writer, 'order-1', 1, [{ type: 'Paid', data: {} }]);
      expect(woken).toBe(2);
      await writer.transaction(async (tx) => void (await tx.query('SELECT 1')));
      expect(woken).toBe(2);
      expect(paymentWoken).toBe(0);
      await stop();
      await stopPayment();
    } finally {
      await writer.close();
    }
  });
});
