import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDelays } from '../machine/index.js';
import { orderMachine } from '../shop/index.js';
import { migrate, migrateStore, startOutboxRelay, type Db } from '../store/index.js';
import { createSagaEngine, subscribeSagaEngine } from '../runtime/index.js';
import { createInProcessTransport } from '../transport/index.js';
import { checkSplitOrderOutcomes, freshPostgres, sampleOrder, serveSimulatedServices, SimulatedServices, SIMULATION_MIGRATION_SCOPE, simulationMigrations, type FreshDatabase } from './index.js';

/*
 * Engine and simulated services with a database each and a transport between them (the
 * layout of the broker-restart acceptance test, here with the in-process transport), then the
 * checker: silent on a sound run, and it names each kind of damage done afterwards.
 */
describe('serveSimulatedServices and checkSplitOrderOutcomes', () => {
  const machine = withDelays(orderMachine, { reservationTimeout: '10m', paymentTimeout: '10m', compensationTimeout: '10m' });
  let engineDb: FreshDatabase;
  let servicesDb: FreshDatabase;
  const check = () => checkSplitOrderOutcomes({ engine: engineDb.db, services: servicesDb.db, machine });

  beforeAll(async () => {
    engineDb = await freshPostgres('split_engine', 4);
    servicesDb = await freshPostgres('split_services', 4);
    await migrateStore(servicesDb.db);
    await migrate(servicesDb.db, simulationMigrations, SIMULATION_MIGRATION_SCOPE);
    const transport = createInProcessTransport();
    const engine = createSagaEngine({ db: engineDb.db, machines: [machine], pollIntervalMs: 20, retry: { initialDelayMs: 10, maxDelayMs: 50 } });
    await engine.start();
    const relay = startOutboxRelay({ db: engineDb.db, transport, name: 'engine-outbox', pollMs: 10 });
    // Refusals and transient failures, so both endings and resends happen.
    const faults = { seed: 5, inventory: { refuse: 0.2, transient: 0.2 }, payment: { refuse: 0.2 }, shipping: { refuse: 0.2 } };
    const services = await serveSimulatedServices({ db: servicesDb.db, transport, services: new SimulatedServices(faults), repliesTopic: 'order-replies', relayOptions: { pollMs: 10 } });
    const sub = await subscribeSagaEngine(engine, transport, { topic: 'order-replies' });
    const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
    await Promise.all(ids.map((id) => engine.startSaga(id, 'order', sampleOrder(id))));
    await engine.deliver(ids.map((id) => ({ id: `create:${id}`, key: id, type: 'OrderCreated', payload: {} })));
    for (let i = 0; i < 600; i++) {
      const open = await engineDb.db.query(`SELECT 1 FROM ordo_saga_instances WHERE status <> 'final' LIMIT 1`);
      if (open.rows.length === 0 && (await check()).violations.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await sub.close();
    await services.close();
    await relay.stop();
    await engine.stop();
    await transport.close();
  }, 60_000);
  afterAll(async () => {
    await engineDb?.close();
    await servicesDb?.close();
  });

  it('finds nothing wrong with a sound run, which has both endings', async () => {
    const report = await check();
    expect(report.violations).toEqual([]);
    expect(report.total).toBe(30);
    expect(Object.keys(report.byState).sort()).toEqual(['CANCELED', 'DELIVERED']);
  });

  async function delivered(db: Db): Promise<string> {
    const r = await db.query<{ id: string }>(`SELECT id FROM ordo_saga_instances WHERE state = 'DELIVERED' ORDER BY id LIMIT 1`);
    return r.rows[0]?.id ?? '';
  }

  it('names a missing side effect, a command no service handled, a reply never received and a broken timeline', async () => {
    const id = await delivered(engineDb.db);
    await servicesDb.db.query('DELETE FROM sim_charges WHERE order_id = $1', [id]);
    const command = (await engineDb.db.query<{ id: string }>(`SELECT id FROM ordo_messages WHERE metadata->>'kind' = 'command' AND metadata->>'key' = $1 LIMIT 1`, [id])).rows[0]?.id;
    await servicesDb.db.query('DELETE FROM sim_handled WHERE message_id = $1', [command]);
    const reply = (await servicesDb.db.query<{ id: string }>(`SELECT id FROM ordo_messages WHERE stream LIKE 'sim-%' ORDER BY id LIMIT 1`)).rows[0]?.id;
    await engineDb.db.query('DELETE FROM ordo_inbox WHERE message_id = $1', [reply]);
    // The saga's second transition claims another target than the machine takes.
    await engineDb.db.query(
      `UPDATE ordo_messages SET data = jsonb_set(data, '{to}', '"SHIPPED"') WHERE stream = $1 AND type = 'ordo.transition' AND stream_version = (SELECT min(stream_version) FROM ordo_messages WHERE stream = $1 AND type = 'ordo.transition' AND data->>'from' = 'INITIATED')`,
      [`order-${id}`],
    );
    const { violations } = await check();
    expect(violations).toEqual(
      expect.arrayContaining([
        `${id} (DELIVERED): delivered with reserved=1 charged=0 shipped=1`,
        `command ${command} never reached its service`,
        `reply ${reply} never reached the engine`,
        expect.stringMatching(new RegExp(`^${id} \\(DELIVERED\\): a transition from INVENTORY_RESERVING follows one to SHIPPED`)) as unknown as string,
        expect.stringMatching(new RegExp(`^${id} \\(DELIVERED\\): timeline does not replay`)) as unknown as string,
      ]),
    );
  });
});
