import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrateStore, startOutboxRelay, type Db } from '../store/index.js';
import { createInProcessTransport } from '../transport/index.js';
import { orderMachine } from '../shop/index.js';
import { SIMULATION_MIGRATION_SCOPE, SimulatedServices, pgliteFactory, sampleOrder, serveSimulatedServices, simulationMigrations, type FreshDatabase } from '../testing/index.js';
import { createSagaEngine, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, subscribeSagaEngine } from './index.js';

/*
 * The whole loop as deployed, in one process: engine → its stream in the log (outbox) →
 * the store's outbox relay → the in-process transport → services (inbox + side effects +
 * replies written to the log in one transaction) → relay → transport → engine.
 * Nothing is published by a handler directly.
 */
describe('engine, outbox relay and transport together (PGlite, in-process transport)', () => {
  let d: FreshDatabase;
  let close = async () => {};
  beforeAll(async () => {
    const f = await pgliteFactory(async (db) => {
      await migrateStore(db);
      await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
      await migrate(db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
    });
    d = await f.fresh();
    close = async () => {
      await d.close();
      await f.close();
    };
  });
  afterAll(() => close());

  it('runs 20 orders to DELIVERED with every effect going through the outbox', { timeout: 120_000 }, async () => {
    const db: Db = d.db;
    const engine = createSagaEngine({ db, machines: [orderMachine], pollIntervalMs: 50, migrate: false });
    await engine.start();
    const transport = createInProcessTransport();
    const relay = startOutboxRelay({ db, transport, name: 'outbox', pollMs: 10 });
    // Engine and services share this one database, so one relay publishes both outboxes.
    const services = await serveSimulatedServices({ db, transport, services: new SimulatedServices({ seed: 3 }), repliesTopic: 'order-replies', relay });
    const subs = [await subscribeSagaEngine(engine, transport, { topic: 'order-replies' })];

    const ids = Array.from({ length: 20 }, (_, i) => `loop-${i}`);
    await Promise.all(ids.map((id) => engine.startSaga(id, 'order', sampleOrder(id))));
    await engine.deliver(ids.map((id) => ({ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} })));
    relay.notify();

    const deadline = Date.now() + 90_000;
    let states: string[] = [];
    while (Date.now() < deadline) {
      states = (await db.query<{ state: string }>(`SELECT state FROM ordo_saga_instances WHERE id LIKE 'loop-%'`)).rows.map((r) => r.state);
      if (states.length === 20 && states.every((s) => s === 'DELIVERED')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(states).toEqual(Array(20).fill('DELIVERED'));
    const effects = await db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM sim_reservations) + (SELECT count(*) FROM sim_charges) + (SELECT count(*) FROM sim_shipments) AS n`,
    );
    expect(Number(effects.rows[0]?.n)).toBe(60);
    // Every command the engine wrote reached exactly its service's inbox.
    const commands = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_messages WHERE metadata->>'kind' = 'command'`);
    const handled = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ordo_inbox WHERE consumer LIKE 'sim-%'`);
    expect(Number(handled.rows[0]?.n)).toBe(Number(commands.rows[0]?.n));
    expect((await db.query('SELECT 1 FROM ordo_dead_letters')).rows).toEqual([]);

    for (const s of subs) await s.close();
    await services.close();
    await relay.stop();
    await engine.stop();
    await transport.close();
  });
});
