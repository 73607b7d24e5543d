import { describe, expect, it } from 'vitest';
import type { MachineMigration } from '../../machine/index.js';
import { checkMigration, formatResult, ModelOptionsError, parseMigrationFlag, type MigrationCheckResult, type SystemRunOptions, type VersionedSystem } from '../../verify/index.js';
import { orderMigrationV1toV2 } from '../order-machine-v2.js';
import { shopVersions, type ShopSystemOptions } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
type Mapping = MachineMigration<never, unknown>;
/** The shop's v1→v2 migration with some states mapped otherwise (a wrong mapping). */
const remapped = (states: Mapping['states'], rest: Partial<Mapping> = {}): Mapping => ({ ...orderMigrationV1toV2, states: { ...orderMigrationV1toV2.states, ...states }, ...rest });
const versions = (migration: Mapping, o: Partial<ShopSystemOptions> = {}): VersionedSystem => ({ ...shopVersions({ context, orders: 1, ...o }), migrations: [migration] });
const check = (migration: Mapping, run: Partial<SystemRunOptions> & { faults?: Record<string, number> }, o: Partial<ShopSystemOptions> = {}) =>
  checkMigration(versions(migration, { orders: run.keys ?? 1, ...o }), { from: 1, to: 2 }, { keys: 1, ...run });
const status = (r: MigrationCheckResult) => Object.fromEntries(r.properties.map((p) => [p.name, p.status]));
const steps = (r: MigrationCheckResult, property: string) => r.violations.find((v) => v.property === property)?.trace.slice(1).map((s) => `${s.actor} ${s.order} ${s.action}`);

describe('ordo verify order --migration v1→v2: live migration of in-flight orders, proven by the checker', () => {
  it('proves the shop\'s identity mapping: every property of v2, nothing stranded, every order migrated (N = 2, dup/decline/fraud)', () => {
    const r = check(orderMigrationV1toV2, { keys: 2, faults: { dup: 1, decline: 1, fraud: 1 } });
    expect(r.refused).toEqual([]);
    expect(r.violations).toEqual([]);
    expect(status(r)).toMatchObject({ ValidStateTransitions: 'holds', NoStrandedMessages: 'holds', MigrationApplies: 'holds', AtMostOneCapture: 'holds', NoChargeWithoutRefund: 'holds', EventuallyTerminates: 'holds', InventoryConsistency: 'holds' });
    expect(r.migration).toMatchObject({ machine: 'order', from: 1, to: 2 });
  });

  it('refuses a mapping that strands a reservation (INVENTORY_RESERVING → CANCELED), with the shortest counterexample', () => {
    // The reservation's reply lands in CANCELED (ignored there): the stock stays reserved for an order that is gone.
    const r = check(remapped({ INVENTORY_RESERVING: 'CANCELED' }), { faults: {} });
    expect(r.violations.map((v) => v.property)).toEqual(['InventoryConsistency']);
    expect(steps(r, 'InventoryConsistency')).toEqual([
      'orders 1 send OrderCreated',
      'migrator 1 migrate v1→v2 (INVENTORY_RESERVING → CANCELED)',
      'inventory 1 handle ReserveInventory',
      'orders 1 handle InventoryReserved',
    ]);
    const end = r.violations[0]?.trace.at(-1)?.keys[0];
    expect([end?.state, (end?.participants['inventory'] as { status: string }).status, end?.inFlight]).toEqual(['CANCELED', 'reserved', []]);
    // Printed as the v1 history, the migrate step, the v2 continuation.
    expect(formatResult(r)).toMatch(/── v1 history\n0 .*\n1 .*send OrderCreated.*\n── the migrate step\n2 .*migrate v1→v2 \(INVENTORY_RESERVING → CANCELED\).*\n── v2 continuation\n3 .*handle ReserveInventory/);
  });

  it('refuses a mapping that could charge twice: PREPARING_SHIPMENT re-entering PAYMENT_PROCESSING sends ProcessPayment again after the capture', () => {
    const again = remapped({ PREPARING_SHIPMENT: { to: 'PAYMENT_PROCESSING', pending: 'enter' } });
    // With the shop's idempotent payment service the second ProcessPayment is answered from the charge row:
    // no second capture. That protection is the service's, not the migration's: a provider whose idempotency
    // keys expire (card networks keep them for a day or so), or a payment service keyed by request instead of
    // by order, captures again. The non-idempotent variant stands for such a service and is caught.
    expect(check(again, { faults: {} }).violations).toEqual([]);
    const r = check(again, { faults: {} }, { nonIdempotentPayment: true });
    expect(r.violations.map((v) => v.property)).toEqual(['AtMostOneCapture']);
    expect(steps(r, 'AtMostOneCapture')).toEqual([
      'orders 1 send OrderCreated',
      'inventory 1 handle ReserveInventory',
      'orders 1 handle InventoryReserved',
      'payment 1 handle ProcessPayment',
      'orders 1 handle PaymentApproved',
      'migrator 1 migrate v1→v2 (PREPARING_SHIPMENT → PAYMENT_PROCESSING)',
      'payment 1 handle ProcessPayment',
    ]);
    // The identity mapping keeps the same variant safe: nothing is sent twice.
    expect(check(orderMigrationV1toV2 as Mapping, { faults: {} }, { nonIdempotentPayment: true }).violations).toEqual([]);
  });

  it('refuses a mapping wrong as data before exploring (migrationViolations first)', () => {
    const r = check(remapped({ DELIVERED: 'SHIPPED', PAYMENT_PROCESSING: 'NOWHERE' }), { faults: {} });
    expect(r.refused).toEqual(['maps PAYMENT_PROCESSING to NOWHERE, which v2 does not have', 'maps final state DELIVERED to SHIPPED, which is not final']);
    expect([r.states, r.violations]).toEqual([0, []]);
  });

  it('MigrationApplies: a context upcaster that fails for paid orders, caught at the first paid order', () => {
    const picky = remapped({}, {
      context: (c: never) => {
        if ((c as { paymentId?: string }).paymentId !== undefined) throw new Error('cannot upcast a paid order');
        return c;
      },
    });
    const r = check(picky, { faults: {} });
    expect(r.violations.map((v) => v.property)).toEqual(['MigrationApplies']);
    expect(steps(r, 'MigrationApplies')?.at(-1)).toBe('orders 1 handle PaymentApproved');
    expect(status(check(orderMigrationV1toV2 as Mapping, { faults: {} }))['MigrationApplies']).toBe('holds');
  });

  it('parses the flag as v1→v2, v1->v2 or 1:2, and names what is missing', () => {
    expect(['v1→v2', 'v1->v2', '1:2', ' V1 -> V2 '].map(parseMigrationFlag)).toEqual(Array(4).fill({ from: 1, to: 2 }));
    expect(() => parseMigrationFlag('v1 to v2')).toThrow(ModelOptionsError);
    expect(() => checkMigration(versions(orderMigrationV1toV2 as Mapping), { from: 2, to: 3 }, { keys: 1 })).toThrow(/has versions 1, 2; no v2 and v3/);
    expect(() => checkMigration(versions(orderMigrationV1toV2 as Mapping), { from: 2, to: 1 }, { keys: 1 })).toThrow(/declares no migration v2→v1 \(it has v1→v2\)/);
  });
});
