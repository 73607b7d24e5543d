import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateStream } from '../../eventsourcing/index.js';
import { silentLogger } from '../../observe/index.js';
import type { Db } from '../../store/index.js';
import { http, placeOrders } from '../e2e-support.js';
import { orderDecider, orderStream } from '../order-aggregate.js';
import { getOrderDetails } from '../order-view.js';
import { startShop, type RunningShop } from '../shop.js';

// DESIGN.md §2 "One source of truth per order": the saga engine's stream for an
// order is the event-sourced order. Folding it with the order aggregate gives the
// very snapshot the engine keeps inline.
describe('the saga instance and the order aggregate are the same thing', () => {
  let shop: RunningShop;
  let db: Db;
  let ids: string[];

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'pglite' },
      transport: { kind: 'inprocess' },
      port: 0,
      log: silentLogger(),
      simulation: { seed: 'sot', declineRate: 0.3, shipmentFailureRate: 0.2, neverAnswersRate: 0, deliveryDelayMs: 50 },
    });
    db = shop.dbs.orders as Db;
    ids = await placeOrders(shop.url ?? '', shop.tokens.adminToken, 40, ['TEA-GREEN', 'KETTLE'], 8);
    for (let i = 0; i < 600; i++) {
      const open = await db.query(`SELECT 1 FROM ordo_saga_instances WHERE status <> 'final' LIMIT 1`);
      if (open.rows.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);
  afterAll(async () => shop?.stop());

  it('folding each order stream with the aggregate gives the engine snapshot', async () => {
    const states = new Set<string>();
    for (const id of ids) {
      const saga = await shop.orders?.engine.getSaga(id);
      const folded = await aggregateStream(db, orderDecider, orderStream(id));
      expect(folded.state?.state, id).toBe(saga?.snapshot.state);
      expect(folded.state?.context, id).toEqual(saga?.snapshot.context);
      states.add(saga?.snapshot.state ?? '');
    }
    expect([...states].sort()).toEqual(['CANCELED', 'DELIVERED']);
  });

  it('the event-sourced order details agree with the gateway', async () => {
    for (const id of ids.slice(0, 10)) {
      const details = await getOrderDetails(db, id);
      const viaHttp = await http<{ status: string; total: number }>(shop.url ?? '', shop.tokens.adminToken, `/orders/${id}`);
      expect(details?.status).toBe(viaHttp.body.status);
      expect(details?.total).toBe(viaHttp.body.total);
    }
  });
});
