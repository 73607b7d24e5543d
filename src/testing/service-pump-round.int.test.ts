import { describe, expect, it } from 'vitest';
import { appendToStream, migrate, migrateStore, type Db } from '../store/index.js';
import type { IncomingMessage, SagaEngine } from '../runtime/index.js';
import { seededRandom } from './seeded-random.js';
import { pumpServicesUntilIdle } from './service-pump.js';
import { SimulatedServices, serviceOf, type Handled, type SimCommand } from './simulated-services.js';
import { SIMULATION_MIGRATION_SCOPE, simulationMigrations } from './simulated-services-schema.js';
import { databasePerTest } from './suite-database.js';

/*
 * The pump decides a whole round of commands in memory and writes it set-based; that must
 * equal handling the same commands one by one, each in its own transaction (each reading
 * what the previous one wrote). The sequence repeats orders and command types many times
 * within one round (reserve then release, charge then refund, resends after a decision),
 * with high fault rates, so a later command's decision depends on an earlier one's.
 */
const TYPES = ['ReserveInventory', 'ReleaseInventory', 'ProcessPayment', 'RefundPayment', 'PrepareShipment'] as const;
const FAULTS = { drop: 0.1, transient: 0.1, lostReply: 0.1, refuse: 0.1, permanent: 0.1 };

function commandSequence(n: number, orders: number, seed: number): SimCommand[] {
  const random = seededRandom(seed);
  const attempts = new Map<string, number>();
  return Array.from({ length: n }, (_, i) => {
    const orderId = `o${Math.floor(random() * orders)}`;
    const type = TYPES[Math.floor(random() * TYPES.length)] ?? 'ReserveInventory';
    const attempt = (attempts.get(`${orderId}/${type}`) ?? 0) + 1;
    attempts.set(`${orderId}/${type}`, attempt);
    const compensation = type === 'ReleaseInventory' || type === 'RefundPayment';
    return {
      id: `cmd-${i}`,
      type,
      data: { items: [{ quantity: 1 + (i % 4) }, { quantity: 2 }], amount: 100 + i },
      metadata: { kind: 'command', key: orderId, to: serviceOf(type), step: type, compensation, attempt },
    };
  });
}

const services = () => new SimulatedServices({ seed: 11, inventory: FAULTS, payment: FAULTS, shipping: FAULTS, compensation: FAULTS });

/** Everything the services wrote, in a fixed order. */
async function books(db: Db): Promise<Record<string, unknown[]>> {
  const q = async (sql: string) => (await db.query(sql)).rows;
  return {
    ledger: await q('SELECT service, order_id, outcome FROM sim_ledger ORDER BY service, order_id'),
    reservations: await q('SELECT * FROM sim_reservations ORDER BY order_id'),
    releases: await q('SELECT * FROM sim_releases ORDER BY order_id'),
    charges: await q('SELECT * FROM sim_charges ORDER BY order_id'),
    refunds: await q('SELECT * FROM sim_refunds ORDER BY order_id'),
    shipments: await q('SELECT * FROM sim_shipments ORDER BY order_id'),
  };
}

async function pumped(db: Db, cmds: readonly SimCommand[], batchSize: number): Promise<{ replies: IncomingMessage[]; fates: Record<string, string> }> {
  await appendToStream(
    db,
    'sim-test-commands',
    'any',
    cmds.map((c) => ({ id: c.id, type: c.type, data: c.data, metadata: c.metadata })),
  );
  const replies: IncomingMessage[] = [];
  const engine: Pick<SagaEngine, 'deliver'> = {
    deliver: (messages) => {
      replies.push(...messages);
      return Promise.resolve([]);
    },
  };
  const s = services();
  // Until idle, not until a round reads nothing: an older transaction of the database still
  // running (an autoanalyze) holds committed commands back, and a round then reads none.
  await pumpServicesUntilIdle({ db, engine, services: s, batchSize, name: 'round-test' });
  const rows = (await db.query<{ message_id: string; fate: string }>('SELECT message_id, fate FROM sim_handled')).rows;
  return { replies, fates: Object.fromEntries(rows.map((r) => [r.message_id, r.fate])) };
}

describe.each(['PGlite', 'PostgreSQL server'])('the service pump on %s', (engine) => {
  const { fresh, cleanup } = databasePerTest(engine, 'pumpround', async (db) => {
    await migrateStore(db);
    await migrate(db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
  });

  it("decides a round as handling its commands one by one would: same fates, replies and books; a re-delivered round gives the same replies and changes nothing", async () => {
    const cmds = commandSequence(240, 12, 5);
    const one = await fresh();
    const round = await fresh();
    const rounds = await fresh();
    cleanup(() => one.close(), () => round.close(), () => rounds.close());

    const s = services();
    const byOne: Handled[] = [];
    for (const cmd of cmds) byOne.push(await one.db.transaction((tx) => s.handle(tx, cmd)));
    const expectedBooks = await books(one.db);
    const expectedReplies = byOne.flatMap((r) => r.replies);
    const expectedFates = Object.fromEntries(cmds.map((c, i) => [c.id, byOne[i]?.fate]));

    // Not vacuous: compensations after their action, and resends answered from the ledger.
    expect(expectedBooks['releases']?.length).toBeGreaterThan(0);
    expect(expectedBooks['refunds']?.length).toBeGreaterThan(0);
    expect(expectedBooks['shipments']?.length).toBeGreaterThan(0);
    expect(new Set(Object.values(expectedFates))).toEqual(new Set(['ok', 'drop', 'transient', 'lostReply', 'refuse', 'permanent']));

    for (const [d, batchSize] of [
      [round.db, 1000],
      [rounds.db, 7],
    ] as const) {
      const got = await pumped(d, cmds, batchSize);
      expect(got.fates).toEqual(expectedFates);
      expect(got.replies).toEqual(expectedReplies);
      expect(await books(d)).toEqual(expectedBooks);
    }

    // A crash before the checkpoint moved: the round comes again; the stored replies go out again, nothing is done twice.
    await round.db.query(`DELETE FROM ordo_checkpoints WHERE name = 'round-test'`);
    const again: IncomingMessage[] = [];
    await pumpServicesUntilIdle({ db: round.db, engine: { deliver: (m) => (again.push(...m), Promise.resolve([])) }, services: services(), batchSize: 1000, name: 'round-test' });
    expect(again).toEqual(expectedReplies);
    expect(await books(round.db)).toEqual(expectedBooks);
  });
});
