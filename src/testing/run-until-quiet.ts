import type { Db } from '../store/index.js';
import type { SagaEngine } from '../runtime/index.js';
import type { SimulatedServices } from './simulated-services.js';
import { pumpServicesUntilIdle } from './service-pump.js';
import type { VirtualClock } from './virtual-clock.js';

/**
 * Drives a simulation on a virtual clock until nothing is left to do: pump commands
 * and replies, fire due timers, and when all is idle jump the clock to the next timer.
 * Returns the number of rounds taken.
 */
export async function runUntilQuiet(o: { db: Db; engine: SagaEngine; services: SimulatedServices; clock: VirtualClock; maxRounds?: number; heldBackTimeoutMs?: number }): Promise<number> {
  const max = o.maxRounds ?? 10_000;
  for (let round = 1; round <= max; round++) {
    const pumped = await pumpServicesUntilIdle({ db: o.db, engine: o.engine, services: o.services, ...(o.heldBackTimeoutMs === undefined ? {} : { heldBackTimeoutMs: o.heldBackTimeoutMs }) });
    const fired = await o.engine.fireDueTimers();
    if (pumped > 0 || fired > 0) continue;
    const next = await o.db.query<{ due: string | null }>('SELECT min(due_at)::text AS due FROM ordo_saga_timers');
    const due = next.rows[0]?.due;
    if (due === null || due === undefined) return round;
    await o.clock.advance(Math.max(0, Number(due) - o.clock.now()));
    await o.engine.fireDueTimers();
  }
  throw new Error(`simulation still busy after ${max} rounds`);
}

/** A valid order context for the order machine, for tests and benchmarks. */
export function sampleOrder(orderId: string, quantity = 1): { orderId: string; customerId: string; items: { sku: string; quantity: number; unitPrice: number }[]; total: number } {
  return { orderId, customerId: `c-${orderId}`, items: [{ sku: 'sku-1', quantity, unitPrice: 250 }], total: 250 * quantity };
}
