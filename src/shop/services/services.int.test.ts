import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observe/index.js';
import { openPglite, type Db } from '../../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../../testing/index.js';
import { createInProcessTransport } from '../../transport/in-process.js';
import type { Message, Transport } from '../../transport/index.js';
import { topics } from '../contracts.js';
import { hostService, type HostedService } from '../service-host.js';
import { chance, DEFAULT_SIMULATION } from '../simulation.js';
import { putStock } from './inventory-service.js';
import { inventoryService, paymentService } from './service-definitions.js';

/** Collects what arrives on a topic, and waits for a predicate over it. */
async function collector(transport: Transport, topic: string) {
  const seen: Message[] = [];
  await transport.subscribe({ topic, group: `probe-${randomUUID()}`, handler: (d) => {
      seen.push(d.message);
      return Promise.resolve();
    } });
  return {
    seen,
    async until(pred: (ms: Message[]) => boolean, what: string, ms = 10_000): Promise<Message[]> {
      const end = Date.now() + ms;
      while (!pred(seen)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen.map((m) => m.type))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return seen;
    },
  };
}

const command = (topic: string, type: string, key: string, payload: unknown, id: string = randomUUID()): Message => ({ id, topic, key, type, payload, headers: {} });

const engines: [string, () => Promise<FreshDatabase>][] = [
  ['pglite', () => freshPglite()],
  ['postgres', () => freshPostgres('services')],
];

describe.each(engines)('inventory service on %s', (_engine, open) => {
  let fresh: FreshDatabase;
  let db: Db;
  let transport: ReturnType<typeof createInProcessTransport>;
  let service: HostedService;
  let replies: Awaited<ReturnType<typeof collector>>;
  const cmd = topics.commands('inventory');

  beforeAll(async () => {
    fresh = await open();
    db = fresh.db;
    transport = createInProcessTransport({ redeliveryDelayMs: 5 });
    service = await hostService(inventoryService('orchestration'), db, transport, silentLogger(), { relayPollMs: 20 });
    await db.transaction((tx) => putStock(tx, 'SKU-1', { available: 5, unitPrice: 1000 }));
    replies = await collector(transport, topics.events('inventory'));
  });
  afterAll(async () => {
    await service.stop();
    await transport.close();
    await fresh.close();
  });

  const stock = async () => (await db.query<{ available: number; reserved: number; shipped: number }>(`SELECT available, reserved, shipped FROM stock WHERE sku = 'SKU-1'`)).rows[0];

  it('reserves once, even when the same command is delivered twice', async () => {
    const m = command(cmd, 'ReserveInventory', 'o1', { orderId: 'o1', items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1000 }] });
    await transport.publish([m, { ...m }]);
    await transport.publish([m]);
    await replies.until((ms) => ms.some((x) => x.key === 'o1'), 'InventoryReserved');
    await new Promise((r) => setTimeout(r, 200));
    expect(replies.seen.filter((x) => x.key === 'o1').map((x) => x.type)).toEqual(['InventoryReserved']);
    expect(await stock()).toEqual({ available: 3, reserved: 2, shipped: 0 });
  });

  it('answers a second, different command for the same order as before (idempotent by order)', async () => {
    await transport.publish([command(cmd, 'ReserveInventory', 'o1', { orderId: 'o1', items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1000 }] })]);
    await replies.until((ms) => ms.filter((x) => x.key === 'o1').length === 2, 'second reply');
    expect(await stock()).toEqual({ available: 3, reserved: 2, shipped: 0 });
  });

  it("replies in its command's trace, and in no earlier one of the order's when the command carries none", async () => {
    const traceOf = (m: Message | undefined) => String(m?.headers.traceparent ?? '').split('-')[1];
    await transport.publish([command(cmd, 'ReleaseInventory', 'o7', { orderId: 'o7' })]);
    await replies.until((ms) => ms.filter((x) => x.key === 'o7').length === 1, 'first reply');
    await transport.publish([command(cmd, 'ReleaseInventory', 'o7', { orderId: 'o7' })]);
    const [first, second] = (await replies.until((ms) => ms.filter((x) => x.key === 'o7').length === 2, 'second reply')).filter((x) => x.key === 'o7');
    // Two commands without a trace: two replies in traces of their own (looking for one in the
    // order's stream cost a reply two round trips, and glued unrelated work into one trace).
    expect(traceOf(first)).toMatch(/^[0-9a-f]{32}$/);
    expect(traceOf(second)).not.toBe(traceOf(first));
    const traceId = 'a'.repeat(32);
    await transport.publish([{ ...command(cmd, 'ReleaseInventory', 'o7', { orderId: 'o7' }), headers: { traceparent: `00-${traceId}-${'b'.repeat(16)}-01` } }]);
    const third = (await replies.until((ms) => ms.filter((x) => x.key === 'o7').length === 3, 'third reply')).filter((x) => x.key === 'o7')[2];
    expect(traceOf(third)).toBe(traceId);
  });

  it('refuses what it does not have, naming the SKU', async () => {
    await transport.publish([command(cmd, 'ReserveInventory', 'o2', { orderId: 'o2', items: [{ sku: 'SKU-1', quantity: 4, unitPrice: 1000 }, { sku: 'NOPE', quantity: 1, unitPrice: 1 }] })]);
    const [reply] = (await replies.until((ms) => ms.some((x) => x.key === 'o2'), 'InventoryInsufficient')).filter((x) => x.key === 'o2');
    expect(reply?.type).toBe('InventoryInsufficient');
    expect((reply?.payload as { reason: string }).reason).toBe('NOPE: unknown SKU; SKU-1: 4 wanted, 3 available');
    expect(await stock()).toEqual({ available: 3, reserved: 2, shipped: 0 });
  });

  it('a release that overtakes its reservation leaves a tombstone, so the late reserve is refused', async () => {
    await transport.publish([command(cmd, 'ReleaseInventory', 'o3', { orderId: 'o3' })]);
    await replies.until((ms) => ms.some((x) => x.key === 'o3' && x.type === 'ReservationReleased'), 'ReservationReleased');
    await transport.publish([command(cmd, 'ReserveInventory', 'o3', { orderId: 'o3', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }] })]);
    await replies.until((ms) => ms.some((x) => x.key === 'o3' && x.type === 'InventoryInsufficient'), 'late reserve refused');
    expect(await stock()).toEqual({ available: 3, reserved: 2, shipped: 0 });
  });

  it('releases and ships, conserving stock', async () => {
    await transport.publish([command(cmd, 'ReserveInventory', 'o4', { orderId: 'o4', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }] })]);
    await replies.until((ms) => ms.some((x) => x.key === 'o4'), 'o4 reserved');
    await transport.publish([command(cmd, 'ReleaseInventory', 'o1', { orderId: 'o1' })]);
    await transport.publish([command(topics.events('shipping'), 'PackageShipped', 'o4', { orderId: 'o4', trackingNumber: 't', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }] })]);
    await replies.until((ms) => ms.some((x) => x.key === 'o1' && x.type === 'ReservationReleased'), 'o1 released');
    await new Promise((r) => setTimeout(r, 200));
    expect(await stock()).toEqual({ available: 4, reserved: 0, shipped: 1 });
  });

  it('dead-letters a malformed command with the reason and keeps going', async () => {
    await transport.publish([command(cmd, 'ReserveInventory', 'o5', { orderId: 'o5', items: [{ sku: 'SKU-1', quantity: -1 }] })]);
    const end = Date.now() + 5000;
    let rows: { reason: string }[] = [];
    while (rows.length === 0 && Date.now() < end) {
      rows = (await db.query<{ reason: string }>(`SELECT reason FROM service_dead_letters WHERE type = 'ReserveInventory'`)).rows;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(rows[0]?.reason).toMatch(/^invalid ReserveInventory: items\.0\.quantity/);
    expect(await stock()).toEqual({ available: 4, reserved: 0, shipped: 1 });
  });

  it('applies SetStock once (inbox), and reports every stock change on the stock feed with a growing version', async () => {
    const feed = await collector(transport, topics.stock);
    const set = command(cmd, 'SetStock', 'SKU-2', { sku: 'SKU-2', available: 10, name: 'Two', unitPrice: 2 ** 31 + 5 });
    await transport.publish([set]);
    await transport.publish([{ ...set }]);
    // The feed holds the earlier tests' changes of SKU-1 too (a new group starts from the oldest retained message).
    const [first] = (await feed.until((ms) => ms.some((m) => m.key === 'SKU-2'), 'StockChanged for SKU-2')).filter((m) => m.key === 'SKU-2');
    expect(first).toMatchObject({ type: 'StockChanged', headers: { causationId: set.id } });
    expect(first?.payload).toMatchObject({ sku: 'SKU-2', name: 'Two', unitPrice: 2 ** 31 + 5, available: 10, reserved: 0, shipped: 0 });
    const v1 = (first?.payload as { version: number }).version;
    await transport.publish([command(cmd, 'ReserveInventory', 'o6', { orderId: 'o6', items: [{ sku: 'SKU-2', quantity: 3, unitPrice: 2 ** 31 + 5 }] })]);
    const changes = await feed.until((ms) => ms.filter((m) => m.key === 'SKU-2').length >= 2, 'StockChanged after the reservation');
    const after = changes.filter((m) => m.key === 'SKU-2')[1]?.payload as { available: number; reserved: number; version: number };
    expect(after).toMatchObject({ available: 7, reserved: 3 });
    expect(after.version).toBeGreaterThan(v1);
    await new Promise((r) => setTimeout(r, 200));
    // The redelivered SetStock changed nothing and said nothing.
    expect(feed.seen.filter((m) => m.key === 'SKU-2')).toHaveLength(2);
    const row = (await db.query<{ unit_price: unknown; initial: number }>(`SELECT unit_price, initial FROM stock WHERE sku = 'SKU-2'`)).rows[0];
    expect(String(row?.unit_price)).toBe(String(2 ** 31 + 5));
    expect(row?.initial).toBe(10);
  });
});

describe.each(engines)('payment service on %s: money past 32 bits', (_engine, open) => {
  it('charges and records an order of 100,000 units at 214.75 (2 147 500 000 cents), and the largest safe amount', async () => {
    const fresh = await open();
    const transport = createInProcessTransport({ redeliveryDelayMs: 5 });
    const sim = { ...DEFAULT_SIMULATION, declineRate: 0, neverAnswersRate: 0, errorRate: 0, seed: 'big-money' };
    const service = await hostService(paymentService('orchestration', fresh.db, sim), fresh.db, transport, silentLogger(), { relayPollMs: 20, maxDeliver: 2 });
    const replies = await collector(transport, topics.events('payment'));
    const amount = 100_000 * 21_475;
    await transport.publish([command(topics.commands('payment'), 'ProcessPayment', 'big', { orderId: 'big', customerId: 'c', amount })]);
    const [reply] = await replies.until((ms) => ms.some((x) => x.key === 'big'), 'the payment answer');
    expect(reply?.type).toBe('PaymentApproved');
    // pg returns int8 as a string and PGlite as a number: both read back exact.
    const charge = (await fresh.db.query<{ amount: unknown }>(`SELECT amount FROM charges WHERE order_id = 'big'`)).rows[0];
    const ledger = (await fresh.db.query<{ amount: unknown }>(`SELECT amount FROM provider_ledger WHERE idempotency_key = 'big'`)).rows[0];
    expect(String(charge?.amount)).toBe('2147500000');
    expect(String(ledger?.amount)).toBe('2147500000');
    const largest = Number.MAX_SAFE_INTEGER;
    await transport.publish([command(topics.commands('payment'), 'ProcessPayment', 'largest', { orderId: 'largest', customerId: 'c', amount: largest })]);
    await replies.until((ms) => ms.some((x) => x.key === 'largest' && x.type === 'PaymentApproved'), 'the largest amount approved');
    expect(String((await fresh.db.query<{ amount: unknown }>(`SELECT amount FROM charges WHERE order_id = 'largest'`)).rows[0]?.amount)).toBe(String(largest));
    await service.stop();
    await transport.close();
    await fresh.close();
  });
});

describe('payment service (pglite)', () => {
  it('charges at most once per order across redeliveries and transient provider errors, and refunds', async () => {
    const db = await openPglite();
    const transport = createInProcessTransport({ redeliveryDelayMs: 5 });
    const sim = { ...DEFAULT_SIMULATION, declineRate: 0, neverAnswersRate: 0, errorRate: 0.3, seed: 'pay-test' };
    const service = await hostService(paymentService('orchestration', db, sim), db, transport, silentLogger(), { relayPollMs: 20 });
    const replies = await collector(transport, topics.events('payment'));
    const orders = Array.from({ length: 20 }, (_, i) => `p${i}`);
    for (const id of orders) {
      const m = command(topics.commands('payment'), 'ProcessPayment', id, { orderId: id, customerId: 'c', amount: 500 });
      await transport.publish([m, { ...m, id: randomUUID() }]);
    }
    await replies.until((ms) => new Set(ms.map((x) => x.key)).size === orders.length, 'every order answered', 20_000);
    const ledger = (await db.query<{ captures: number }>('SELECT captures FROM provider_ledger')).rows;
    expect(ledger).toHaveLength(orders.length);
    expect(ledger.every((r) => r.captures === 1)).toBe(true);
    await transport.publish([command(topics.commands('payment'), 'RefundPayment', 'p0', { orderId: 'p0', amount: 500 })]);
    await replies.until((ms) => ms.some((x) => x.key === 'p0' && x.type === 'PaymentRefunded'), 'refund');
    expect((await db.query<{ status: string; refunds: number }>(`SELECT status, refunds FROM provider_ledger WHERE idempotency_key = 'p0'`)).rows[0]).toEqual({ status: 'refunded', refunds: 1 });
    await service.stop();
    await transport.close();
    await db.close();
  });
});

describe.each(engines)('payment service on %s: the fraud rule (order machine v2)', (_engine, open) => {
  const sim = { ...DEFAULT_SIMULATION, declineRate: 0, neverAnswersRate: 0, errorRate: 0, fraudRate: 0.5, seed: 'fraud-test' };
  // The rule is deterministic per order: find one order it flags and one it clears.
  const ids = Array.from({ length: 40 }, (_, i) => `f${i}`);
  const flagged = ids.find((id) => chance(sim.fraudRate, sim.seed, 'fraud', id)) ?? '';
  const clean = ids.find((id) => !chance(sim.fraudRate, sim.seed, 'fraud', id)) ?? '';

  it.each([
    ['orchestration', topics.commands('payment'), 'CheckFraud'],
    ['choreography', topics.orderEvents, 'FraudCheckRequested'],
  ] as const)('%s: screens each order once, answers a duplicate with the kept verdict, then charges the cleared one', async (mode, topic, type) => {
    const fresh = await open();
    const transport = createInProcessTransport({ redeliveryDelayMs: 5 });
    const service = await hostService(paymentService(mode, fresh.db, sim), fresh.db, transport, silentLogger(), { relayPollMs: 20 });
    const replies = await collector(transport, topics.events('payment'));
    for (const id of [flagged, clean]) {
      const payload = { orderId: id, customerId: 'c', amount: 700 };
      // Two deliveries with different message ids: the inbox does not stop the second, the kept verdict answers it.
      await transport.publish([command(topic, type, id, payload)]);
      await replies.until((ms) => ms.some((x) => x.key === id), `the verdict on ${id}`);
      await transport.publish([command(topic, type, id, payload)]);
      await replies.until((ms) => ms.filter((x) => x.key === id).length === 2, `the second answer on ${id}`);
    }
    const answers = (id: string) => replies.seen.filter((x) => x.key === id).map((x) => [x.type, x.payload]);
    expect(answers(flagged)).toEqual(Array(2).fill(['FraudSuspected', { orderId: flagged, reason: 'the fraud rule flags the order' }]));
    expect(answers(clean)).toEqual(Array(2).fill(['FraudCleared', { orderId: clean }]));
    const verdicts = (await fresh.db.query<{ order_id: string; verdict: string }>('SELECT order_id, verdict FROM fraud_checks ORDER BY verdict')).rows;
    expect(verdicts).toEqual([{ order_id: clean, verdict: 'cleared' }, { order_id: flagged, verdict: 'suspected' }]);
    // The cleared order is charged as before; its verdict stays.
    const payTopic = mode === 'orchestration' ? topics.commands('payment') : topics.orderEvents;
    await transport.publish([command(payTopic, mode === 'orchestration' ? 'ProcessPayment' : 'PaymentRequested', clean, { orderId: clean, customerId: 'c', amount: 700 })]);
    await replies.until((ms) => ms.some((x) => x.key === clean && x.type === 'PaymentApproved'), 'the cleared order charged');
    expect((await fresh.db.query<{ status: string; amount: unknown }>('SELECT status, amount FROM charges WHERE order_id = $1', [clean])).rows.map((r) => [r.status, String(r.amount)])).toEqual([['approved', '700']]);
    expect((await fresh.db.query('SELECT 1 FROM fraud_checks')).rows).toHaveLength(2);
    await service.stop();
    await transport.close();
    await fresh.close();
  });
});
