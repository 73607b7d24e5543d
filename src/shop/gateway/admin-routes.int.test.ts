import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edges } from '../../machine/index.js';
import type { Db } from '../../store/index.js';
import { http, startTestShop, waitUntil } from '../e2e-support.js';
import { orderMachine } from '../order-machine.js';
import type { RunningShop } from '../shop.js';
import type { AdminOverview, AlertView, CommandAttempt, DeadLetterView, MachineView, StuckSaga } from './admin-api.js';
import type { AuditEntry } from './security-api.js';

type ErrorBody = { error: { code: string; message: string; fields?: { path: string }[] } };

describe('the admin API (PGlite + in-process shop)', () => {
  let shop: RunningShop;
  let db: Db;
  let base: string;
  let admin: string;
  let shipped: string;
  const bare = randomUUID();

  const stateOf = async (id: string) => (await db.query<{ state: string }>('SELECT state FROM ordo_saga_instances WHERE id = $1', [id])).rows[0]?.state;

  beforeAll(async () => {
    shop = await startTestShop('admin-api');
    base = shop.url ?? '';
    admin = shop.tokens.adminToken;
    db = shop.dbs.orders as Db;
    const placed = await http<{ orderId: string }>(base, admin, '/orders', { method: 'POST', body: { customerId: 'alice', items: [{ sku: 'TEA-GREEN', quantity: 1 }] } });
    expect(placed.status).toBe(202);
    shipped = placed.body.orderId;
    await waitUntil('the order to ship', async () => (await stateOf(shipped)) === 'SHIPPED');
    // Started without its OrderCreated: it waits in INITIATED with no timer.
    await shop.orders?.engine.startSaga(bare, 'order', { orderId: bare, customerId: 'bob', items: [{ sku: 'TEA-GREEN', quantity: 1, unitPrice: 450 }], total: 450 });
  });
  afterAll(async () => shop?.stop());

  it('is for the admin token only', async () => {
    expect((await http<ErrorBody>(base, 'nope', '/admin/overview')).status).toBe(401);
    const customer = shop.tokens.customerToken('alice');
    for (const [method, path] of [
      ['GET', '/admin/overview'],
      ['GET', '/admin/machine'],
      ['GET', '/admin/dead-letters'],
      ['POST', '/admin/dead-letters/1/replay'],
      ['GET', '/admin/alerts'],
      ['GET', '/admin/stuck'],
      ['POST', `/admin/orders/${shipped}/retry-compensation`],
      ['POST', `/admin/orders/${shipped}/compensate`],
    ] as const) {
      const r = await http<ErrorBody>(base, customer, path, { method });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
    }
    expect(await stateOf(shipped)).toBe('SHIPPED');
  });

  it('rejects bad parameters with a message per field', async () => {
    const cases: [string, string, string][] = [
      ['GET', '/admin/overview?stuckAfterSeconds=0', 'stuckAfterSeconds'],
      ['GET', '/admin/stuck?stuckAfterSeconds=abc', 'stuckAfterSeconds'],
      ['GET', '/admin/stuck?limit=100000', 'limit'],
      ['GET', '/admin/alerts?includeResolved=maybe', 'includeResolved'],
      ['GET', '/admin/dead-letters?colour=red', '(root)'],
      ['POST', '/admin/dead-letters/abc/replay', 'id'],
      ['POST', '/admin/orders/not-a-uuid/retry-compensation', 'id'],
      ['POST', '/admin/orders/not-a-uuid/compensate', 'id'],
    ];
    for (const [method, path, field] of cases) {
      const r = await http<ErrorBody>(base, admin, path, { method });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
      expect(r.body.error.fields?.map((f) => f.path)).toContain(field);
    }
    const extra = await http<ErrorBody>(base, admin, `/admin/orders/${bare}/compensate`, { method: 'POST', body: { reason: 'x', force: true } });
    expect(extra.status).toBe(400);
    expect(await stateOf(bare)).toBe('INITIATED');
  });

  it('draws the order machine from its definition', async () => {
    const r = await http<MachineView & { definition: { states: Record<string, unknown>; initial: string } }>(base, admin, '/admin/machine');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.definition.states)).toEqual([...orderMachine.stateNames]);
    expect(r.body.definition.initial).toBe('INITIATED');
    expect(r.body.edges).toHaveLength(edges(orderMachine).length);
    expect(r.body.mermaid).toMatch(/^stateDiagram-v2/);
    expect(r.body.mermaid).toContain('COMPENSATION_FAILED');
  });

  it('counts orders per state, as the database holds them', async () => {
    const r = await http<AdminOverview>(base, admin, '/admin/overview');
    expect(r.status).toBe(200);
    expect(r.body.states.map((s) => s.state)).toEqual([...orderMachine.stateNames]);
    const counts = Object.fromEntries(r.body.states.filter((s) => s.count > 0).map((s) => [s.state, s.count]));
    expect(counts).toEqual({ INITIATED: 1, SHIPPED: 1 });
    expect(r.body.total).toBe(2);
    expect(r.body.throughput).toEqual({ created: 2, finished: 0, windowSeconds: 60 });
    expect(r.body.openAlerts).toBe(0);
    expect(r.body.deadLettersWaiting).toBe(0);
    expect(r.body.versions).toEqual([{ version: 1, unfinished: 2, finished: 0 }]);
  });

  it('lists stuck sagas once idle past the threshold, with what can be done about them', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const r = await http<{ stuck: StuckSaga[] }>(base, admin, '/admin/stuck?stuckAfterSeconds=1');
    expect(r.status).toBe(200);
    const byId = new Map(r.body.stuck.map((s) => [s.orderId, s]));
    expect(byId.get(bare)).toMatchObject({ state: 'INITIATED', status: 'active', cancellable: true });
    expect(byId.get(shipped)).toMatchObject({ state: 'SHIPPED', cancellable: false });
    expect((await http<{ stuck: StuckSaga[] }>(base, admin, '/admin/stuck')).body.stuck).toEqual([]);
    expect((await http<AdminOverview>(base, admin, '/admin/overview?stuckAfterSeconds=1')).body.stuck).toBe(2);
  });

  it('replays dead letters: 404 for an unknown one, 409 (and one more attempt) when it fails again', async () => {
    const [poison] = (await shop.orders?.engine.deliver([{ id: `poison-${shipped}`, key: shipped, type: 'PackageShipped', payload: { trackingNumber: 42 } }])) ?? [];
    expect(poison?.status).toBe('dead-lettered');
    const list = await http<{ deadLetters: DeadLetterView[] }>(base, admin, '/admin/dead-letters');
    expect(list.body.deadLetters).toHaveLength(1);
    const letter = list.body.deadLetters[0];
    expect(letter).toMatchObject({ messageId: `poison-${shipped}`, sagaId: shipped, type: 'PackageShipped', payload: { trackingNumber: 42 }, attempts: 1 });

    expect((await http<ErrorBody>(base, admin, '/admin/dead-letters/999999/replay', { method: 'POST' })).status).toBe(404);
    const again = await http<ErrorBody>(base, admin, `/admin/dead-letters/${letter?.id}/replay`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('REPLAY_FAILED');
    const after = await http<{ deadLetters: DeadLetterView[] }>(base, admin, '/admin/dead-letters');
    expect(after.body.deadLetters[0]?.attempts).toBe(2);
    expect(await stateOf(shipped)).toBe('SHIPPED');
  });

  it('compensates where the state allows it and says 409 where it does not', async () => {
    const missing = randomUUID();
    expect((await http<ErrorBody>(base, admin, `/admin/orders/${missing}/compensate`, { method: 'POST' })).status).toBe(404);
    expect((await http<ErrorBody>(base, admin, `/admin/orders/${missing}/retry-compensation`, { method: 'POST' })).status).toBe(404);

    const late = await http<ErrorBody>(base, admin, `/admin/orders/${shipped}/compensate`, { method: 'POST' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('NOT_CANCELLABLE');
    const notParked = await http<ErrorBody>(base, admin, `/admin/orders/${shipped}/retry-compensation`, { method: 'POST' });
    expect(notParked.status).toBe(409);
    expect(notParked.body.error.code).toBe('NOT_PARKED');
    expect(await stateOf(shipped)).toBe('SHIPPED');

    const ok = await http<{ orderId: string; status: string }>(base, admin, `/admin/orders/${bare}/compensate`, { method: 'POST', body: { reason: 'operator test' } });
    expect(ok.status).toBe(202);
    expect(ok.body).toEqual({ orderId: bare, status: 'CANCELED' });
    const order = await http<{ failureReason?: string }>(base, admin, `/orders/${bare}`);
    expect(order.body.failureReason).toBe('canceled: operator test');
    const alerts = await http<{ alerts: AlertView[] }>(base, admin, '/admin/alerts?includeResolved=true');
    expect(alerts.body.alerts).toEqual([]);
  });

  it("lists an order's failed command sends (the engine's retry history)", async () => {
    const id = randomUUID();
    await shop.orders?.engine.startSaga(id, 'order', { orderId: id, customerId: 'dave', items: [{ sku: 'TEA-GREEN', quantity: 1, unitPrice: 450 }], total: 450 });
    expect((await http<{ attempts: CommandAttempt[] }>(base, admin, `/admin/orders/${id}/attempts`)).body.attempts).toEqual([]);
    // The reservation's first send fails transiently before the inventory answers: the engine sends it again.
    await shop.orders?.engine.deliver([
      { id: `created-${id}`, key: id, type: 'OrderCreated', payload: {} },
      { id: `busy-${id}`, key: id, type: 'ordo.step.failed', payload: { step: 'reserveInventory', attempt: 1, retryable: true, reason: 'inventory busy' } },
    ]);
    const r = await http<{ attempts: CommandAttempt[] }>(base, admin, `/admin/orders/${id}/attempts`);
    expect(r.status).toBe(200);
    expect(r.body.attempts).toHaveLength(1);
    expect(r.body.attempts[0]).toMatchObject({ step: 'reserveInventory', compensation: false, attempt: 1, retryable: true, error: 'inventory busy' });
    expect(r.body.attempts[0]?.retryAt).toMatch(/^\d{4}-/);
    await waitUntil('the retried order to ship', async () => (await stateOf(id)) === 'SHIPPED');
    expect((await http<ErrorBody>(base, admin, `/admin/orders/${randomUUID()}/attempts`)).status).toBe(404);
  });

  it('recorded every action above in the audit trail, refused ones included, and no reads', async () => {
    const r = await http<{ entries: AuditEntry[] }>(base, admin, '/admin/audit?limit=500');
    expect(r.status).toBe(200);
    const entries = r.body.entries;
    expect(new Set(entries.map((e) => e.action))).toEqual(new Set(['dead-letter.replay', 'order.compensate', 'order.retry-compensation']));
    const compensated = entries.find((e) => e.action === 'order.compensate' && e.target === bare && e.outcome === 'ok');
    expect(compensated).toMatchObject({ method: 'POST', path: `/admin/orders/${bare}/compensate`, input: { reason: 'operator test' }, before: { status: 'INITIATED' }, status: 202, after: { orderId: bare, status: 'CANCELED' } });
    expect(compensated?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(entries.find((e) => e.action === 'order.compensate' && e.target === shipped)).toMatchObject({ outcome: 'NOT_CANCELLABLE', status: 409, before: { status: 'SHIPPED' } });
    expect(entries.find((e) => e.action === 'order.retry-compensation' && e.target === shipped)).toMatchObject({ outcome: 'NOT_PARKED', status: 409 });
    expect(entries.filter((e) => e.action === 'dead-letter.replay').map((e) => e.outcome).sort()).toEqual(['NOT_FOUND', 'REPLAY_FAILED', 'VALIDATION']);
    // The customer's 403s above were not admin actions.
    expect(entries.every((e) => e.actor.startsWith('admin:'))).toBe(true);
  });
});
