import { describe, expect, it } from 'vitest';
import type { MachineMigration } from '../../machine/index.js';
import { replayTrace } from '../../testing/replay-trace.js';
import { checkMigration, type TraceStep } from '../../verify/index.js';
import { orderMachine } from '../order-machine.js';
import { orderMachineV2, orderMigrationV1toV2 } from '../order-machine-v2.js';
import { orderSystemV2, shopVersions } from './order-system.js';

const context = { orderId: 'o', customerId: 'c', items: [{ sku: 'A', quantity: 1, unitPrice: 100 }], total: 100 };
type Mapping = MachineMigration<never, unknown>;

/** The shortest counterexample of a wrong v1→v2 mapping, and the same trace replayed on the real saga engine (PGlite). */
async function refusedAndReplayed(states: Mapping['states'], property: string, nonIdempotentPayment = false) {
  const migration = { ...orderMigrationV1toV2, states: { ...orderMigrationV1toV2.states, ...states } } as Mapping;
  const o = { context, orders: 1, nonIdempotentPayment };
  const r = checkMigration({ ...shopVersions(o), migrations: [migration] }, { from: 1, to: 2 }, { keys: 1 });
  const trace: readonly TraceStep[] = r.violations.find((v) => v.property === property)?.trace ?? [];
  expect(trace.length).toBeGreaterThan(1);
  // The migrate step runs the runtime's own migration (migrateSagas, as `ordo migrate` does) on the one saga.
  const report = await replayTrace(trace, { definition: orderSystemV2(o), migration: { migration, from: orderMachine, to: orderMachineV2 } });
  return { trace, report };
}

describe('wrong migrations: the checker\'s counterexample happens on the real engine, step by step', () => {
  it('INVENTORY_RESERVING → CANCELED: the reservation arrives after the order is canceled and the stock stays reserved', async () => {
    const { trace, report } = await refusedAndReplayed({ INVENTORY_RESERVING: 'CANCELED' }, 'InventoryConsistency');
    expect(report.stoppedAt).toBeUndefined();
    expect(report.divergences).toEqual([]);
    expect(report.steps).toBe(trace.length);
    expect(report.results.find((x) => x.action.includes('migrate'))?.results).toEqual(['migrated to v2 (CANCELED)']);
    const end = report.final.keys[0];
    expect([end?.state, (end?.participants['inventory'] as { status: string }).status]).toEqual(['CANCELED', 'reserved']);
  });

  it('PREPARING_SHIPMENT → enter PAYMENT_PROCESSING: the engine sends ProcessPayment again after the capture (charged twice by a non-idempotent payment service)', async () => {
    const { report } = await refusedAndReplayed({ PREPARING_SHIPMENT: { to: 'PAYMENT_PROCESSING', pending: 'enter' } }, 'AtMostOneCapture', true);
    expect(report.stoppedAt).toBeUndefined();
    expect(report.divergences).toEqual([]);
    expect(report.commands.filter((c) => c.type === 'ProcessPayment')).toHaveLength(2);
    expect((report.final.keys[0]?.participants['payment'] as { captures: number }).captures).toBe(2);
  });
});
