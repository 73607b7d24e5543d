import type { OrdoMetrics } from '../observe/index.js';
import type { WorkingInstance } from './working-instance.js';

/**
 * What one batch transaction did, for the metrics. Collected while the batch runs and
 * counted only once its transaction committed: a batch retried after a conflict (or rolled
 * back) must not count twice.
 */
export interface BatchObservations {
  readonly deadLetters: string[];
  instances: readonly WorkingInstance[];
}

export function newObservations(): BatchObservations {
  return { deadLetters: [], instances: [] };
}

/** Adds a committed batch to the metrics; `service` labels the engine's dead letters. */
export function countBatch(metrics: OrdoMetrics, service: string, o: BatchObservations): void {
  for (const code of o.deadLetters) metrics.deadLetters.inc({ service, reason: code });
  for (const w of o.instances) {
    if (!w.loaded) metrics.sagasStarted.inc({ machine: w.machineId });
    for (const entry of w.log) {
      if (entry.type !== 'ordo.transition') continue;
      const d = entry.data as { from?: string | null; to?: string; trigger?: { type?: string } };
      metrics.transitions.inc({ machine: w.machineId, from: d.from ?? '', to: d.to ?? '', event: d.trigger?.type ?? '' });
    }
    for (const a of w.alerts) metrics.alerts.inc({ kind: a.kind });
    if (w.status === 'final' && w.loaded?.status !== 'final') {
      // Age from the database's clock (`now() - created_at` when the batch locked the row); 0 when it started in this batch.
      metrics.sagaLatency.observe({ machine: w.machineId, outcome: w.snapshot.state }, w.loaded?.age_seconds ?? 0);
    }
  }
}
