import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observe/index.js';
import { dropPostgresDatabase } from '../../store/index.js';
import { TEST_POSTGRES_ADMIN_URL } from '../../testing/index.js';
import { http } from '../e2e-support.js';
import { startShop, type RunningShop } from '../shop.js';

describe('the operator routes for the dashboard: service dead letters and an order’s history across services', () => {
  const prefix = `ordo_t_opsr_${randomBytes(3).toString('hex')}`;
  let shop: RunningShop;
  let base: string;
  const admin = 'ops-routes-admin';

  beforeAll(async () => {
    shop = await startShop({
      mode: 'orchestration',
      storage: { kind: 'postgres', url: TEST_POSTGRES_ADMIN_URL, databasePrefix: prefix },
      transport: { kind: 'inprocess' },
      port: 0,
      adminToken: admin,
      reconcileIntervalMs: false,
      simulation: { declineRate: 0, errorRate: 0, neverAnswersRate: 0, shipmentFailureRate: 0, deliveryDelayMs: 50 },
      log: silentLogger(),
    });
    base = shop.url ?? '';
  }, 60_000);
  afterAll(async () => {
    await shop?.stop();
    for (const s of ['orders', 'inventory', 'payment', 'shipping']) await dropPostgresDatabase(TEST_POSTGRES_ADMIN_URL, `${prefix}_${s}`);
  });

  it('answers 403 to a customer, 400 to a bad limit, 404 to an unknown order', async () => {
    const customer = shop.tokens.customerToken('eve');
    expect((await http(base, customer, '/admin/service-dead-letters')).status).toBe(403);
    expect((await http(base, customer, '/admin/orders/x/history')).status).toBe(403);
    const bad = await http<{ error: { code: string; message: string } }>(base, admin, '/admin/service-dead-letters?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/limit/);
    expect((await http(base, admin, '/admin/orders/no-such-order/history')).status).toBe(404);
  });

  it('merges the order’s saga stream with each participant’s reports, with everyone’s state after each step', async () => {
    const placed = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId: 'eve', items: [{ sku: 'KETTLE', quantity: 1 }] } });
    expect(placed.status).toBe(202);
    const id = placed.body.orderId;
    type Step = { service: string; type: string; orderState: string; participants: Record<string, string> };
    let steps: Step[] = [];
    for (let i = 0; i < 200 && steps.at(-1)?.orderState !== 'DELIVERED'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      steps = (await http<{ steps: Step[] }>(base, admin, `/admin/orders/${id}/history`)).body.steps;
    }
    expect(steps[0]).toMatchObject({ service: 'orders', type: 'transition', orderState: 'INITIATED', participants: { inventory: 'none', payment: 'none', shipping: 'none' } });
    expect(steps.filter((s) => s.service !== 'orders').map((s) => `${s.service}:${s.type}`)).toEqual(['inventory:InventoryReserved', 'payment:PaymentApproved', 'shipping:PackageShipped', 'shipping:DeliveryConfirmed']);
    // A reply comes before the transition it causes: the order is still waiting at the reply.
    const reserved = steps.findIndex((s) => s.type === 'InventoryReserved');
    expect(steps[reserved]).toMatchObject({ orderState: 'INVENTORY_RESERVING', participants: { inventory: 'InventoryReserved', payment: 'none' } });
    expect(steps.at(-1)).toMatchObject({ orderState: 'DELIVERED', participants: { inventory: 'InventoryReserved', payment: 'PaymentApproved', shipping: 'DeliveryConfirmed' } });

    await shop.transport.publish([{ id: `bad-${id}`, topic: 'payment-commands', key: id, type: 'ProcessPayment', payload: { orderId: id }, headers: {} }]);
    let letters: { id: string; service: string; type: string; reason: string }[] = [];
    for (let i = 0; i < 100 && letters.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      letters = (await http<{ deadLetters: typeof letters }>(base, admin, '/admin/service-dead-letters')).body.deadLetters;
    }
    expect(letters).toEqual([expect.objectContaining({ service: 'payment', type: 'ProcessPayment', reason: expect.stringMatching(/^invalid ProcessPayment/) as unknown })]);

    // Replay, from the operator's side: a customer may not, a bad path is a 400, an unknown letter a 404.
    const dead = letters[0] ?? { id: 'none' };
    const customer = shop.tokens.customerToken('eve');
    expect((await http(base, customer, `/admin/service-dead-letters/payment/${dead.id}/replay`, { method: 'POST' })).status).toBe(403);
    expect((await http(base, admin, `/admin/service-dead-letters/billing/${dead.id}/replay`, { method: 'POST' })).status).toBe(400);
    expect((await http(base, admin, '/admin/service-dead-letters/payment/987654/replay', { method: 'POST' })).status).toBe(404);
    const sent = await http<{ commandId: string; status: string }>(base, admin, `/admin/service-dead-letters/payment/${dead.id}/replay`, { method: 'POST' });
    expect(sent.status).toBe(202);
    // The payment service handled it again: still unreadable, so it is marked replayed with that outcome and kept as a new letter.
    type Letter = { id: string; replayedAt?: string; replayedBy?: string; replayOutcome?: string };
    let after: Letter[] = [];
    for (let i = 0; i < 100 && !after.find((l) => l.id === dead.id)?.replayedAt; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await http<{ deadLetters: Letter[] }>(base, admin, '/admin/service-dead-letters')).body.deadLetters;
    }
    expect(after.find((l) => l.id === dead.id)).toMatchObject({ replayedBy: expect.stringMatching(/^admin/) as unknown, replayOutcome: 'dead-lettered' });
    expect(after.filter((l) => !l.replayedAt)).toHaveLength(1);
    // Replayed once: a second request finds nothing waiting under that id.
    expect((await http(base, admin, `/admin/service-dead-letters/payment/${dead.id}/replay`, { method: 'POST' })).status).toBe(404);
    const audit = (await http<{ entries: { action: string; target?: string }[] }>(base, admin, '/admin/audit?action=service-dead-letter.replay')).body.entries;
    expect(audit.map((e) => e.target)).toContain(`payment/${dead.id}`);
  });
});
