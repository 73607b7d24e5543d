import type { OrdoMetrics } from '../observe/index.js';
import type { Db } from '../store/index.js';
import { stuckSagaFilter } from './stuck-sagas.js';

/**
 * The orders process's state gauges, read from its database at each scrape: sagas per
 * state (every state of the machine, 0 included, so an alert on one has a series to
 * watch), stuck sagas, the engine's dead letters not yet replayed and its parked messages.
 */
export function watchSagaGauges(metrics: OrdoMetrics, db: Db, machine: { readonly id: string; readonly stateNames: readonly string[] }, stuckAfterSeconds = 60): () => void {
  return metrics.onScrape(async () => {
    const counts = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM ordo_saga_instances WHERE machine_id = $1 GROUP BY state', [machine.id]);
    const byState = new Map(counts.rows.map((r) => [r.state, Number(r.n)]));
    for (const state of new Set([...machine.stateNames, ...byState.keys()])) metrics.sagas.set({ machine: machine.id, state }, byState.get(state) ?? 0);
    const f = stuckSagaFilter(machine.id, stuckAfterSeconds, Date.now());
    const stuck = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_instances i WHERE ${f.where}`, f.params);
    metrics.sagasStuck.set({ machine: machine.id }, Number(stuck.rows[0]?.n ?? 0));
    const waiting = await db.query<{ dead: number; parked: number }>(
      'SELECT (SELECT count(*) FROM ordo_dead_letters WHERE replayed_at IS NULL)::int AS dead, (SELECT count(*) FROM ordo_parked_messages)::int AS parked',
    );
    metrics.deadLettersWaiting.set({ service: 'orders' }, Number(waiting.rows[0]?.dead ?? 0));
    metrics.parkedMessages.set({ service: 'orders' }, Number(waiting.rows[0]?.parked ?? 0));
  });
}

/** `ordo_dead_letters_waiting` of a hosted service (its `service_dead_letters` table). */
export function watchServiceDeadLetters(metrics: OrdoMetrics, db: Db, service: string): () => void {
  return metrics.onScrape(async () => {
    const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_dead_letters WHERE replayed_at IS NULL');
    metrics.deadLettersWaiting.set({ service }, Number(r.rows[0]?.n ?? 0));
  });
}
