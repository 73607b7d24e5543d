import { SpanKind, recordSpan, traceparentOf, type OrdoMetrics } from '../observe/index.js';
import type { Db, Queryable } from '../store/index.js';
import type { WorkItem, WorkResult } from './work-item.js';
import type { InstanceRow, WorkingInstance } from './working-instance.js';

/** How a batch tells the engine's observation what it did (set in `BatchDeps.observer`). */
export interface BatchObserver {
  /** The W3C traceparent an input came with (its message header, or the caller's active span). */
  traceOf(item: WorkItem): string | undefined;
  /** The instances the batch wrote and its results; reported only once its transaction committed. */
  written(instances: readonly WorkingInstance[], results: readonly WorkResult[]): void;
}

/**
 * Carries an input's trace context onto what applying it wrote (timeline and outbox), so a
 * command continues the trace of the reply that caused it, across processes.
 */
export function stampTrace(w: WorkingInstance | undefined, from: number, traceparent: string | undefined): void {
  if (!w || !traceparent) return;
  for (let i = from; i < w.log.length; i++) {
    const m = w.log[i];
    if (m && typeof m.metadata?.['traceparent'] !== 'string') w.log[i] = { ...m, metadata: { ...m.metadata, traceparent } };
  }
}

export interface EngineObservationOptions {
  readonly metrics?: OrdoMetrics;
  /** The `service` label of the engine's dead letters and the spans' `ordo.service`. */
  readonly service: string;
  readonly streamOf: (machineId: string, sagaId: string) => string;
  readonly logger: { warn(obj: Record<string, unknown>, msg: string): void };
}

/**
 * The engine's metrics and spans. Inputs are tagged with their trace when submitted; a batch's
 * transitions, starts, finishes, dead letters and alerts are counted, and its transitions
 * become spans, only after its transaction committed: a batch retried after a conflict, or
 * rolled back, is never counted twice.
 */
export function engineObservation(o: EngineObservationOptions) {
  const traces = new WeakMap<WorkItem, string>();
  const tag = (item: WorkItem, traceparent: string | undefined) => {
    if (traceparent) traces.set(item, traceparent);
  };
  return {
    submitted(items: readonly WorkItem[]): void {
      const active = traceparentOf();
      for (const item of items) tag(item, (item.kind === 'message' ? item.message.headers?.['traceparent'] : undefined) ?? active);
    },
    /** Timers continue the trace of their saga: the newest traceparent in its stream. */
    async traceTimers(tx: Queryable, items: readonly WorkItem[], rows: ReadonlyMap<string, Pick<InstanceRow, 'id' | 'machine_id'>>): Promise<void> {
      const streams = [...rows.values()].map((r) => o.streamOf(r.machine_id, r.id));
      if (streams.length === 0) return;
      const r = await tx.query<{ stream: string; traceparent: string }>(
        `SELECT DISTINCT ON (stream) stream, metadata->>'traceparent' AS traceparent FROM ordo_messages
         WHERE stream = ANY($1::text[]) AND metadata ? 'traceparent' ORDER BY stream, stream_version DESC`,
        [streams],
      );
      const byStream = new Map(r.rows.map((row) => [row.stream, row.traceparent]));
      for (const item of items) {
        const row = item.kind === 'timer' ? rows.get(item.sagaId) : undefined;
        if (row) tag(item, byStream.get(o.streamOf(row.machine_id, row.id)));
      }
    },
    /** Runs one batch transaction, then reports what it wrote. */
    async transaction<T>(db: Db, body: (tx: Queryable, observer: BatchObserver) => Promise<T>): Promise<T> {
      let seen: { instances: readonly WorkingInstance[]; results: readonly WorkResult[] } | undefined;
      const observer: BatchObserver = { traceOf: (item) => traces.get(item), written: (instances, results) => void (seen = { instances, results }) };
      const startTime = Date.now();
      const out = await db.transaction((tx) => body(tx, observer));
      if (seen) {
        try {
          report(o, seen.instances, seen.results, startTime, Date.now());
        } catch (err) {
          // The batch committed: a metrics or tracing fault must not make its callers retry it.
          o.logger.warn({ err }, 'reporting a batch to metrics and traces failed');
        }
      }
      return out;
    },
  };
}

export type EngineObservation = ReturnType<typeof engineObservation>;

function report(o: EngineObservationOptions, instances: readonly WorkingInstance[], results: readonly WorkResult[], startTime: number, endTime: number): void {
  const m = o.metrics;
  if (m) for (const r of results) if (r.status === 'dead-lettered') m.deadLetters.inc({ service: o.service, reason: r.code });
  for (const w of instances) {
    if (!w.loaded) m?.sagasStarted.inc({ machine: w.machineId });
    for (const entry of w.log) {
      if (entry.type !== 'ordo.transition') continue;
      const d = entry.data as { from?: string | null; to?: string; trigger?: { type?: string }; path?: readonly { to?: string }[] };
      const from = d.from ?? '';
      const to = d.to ?? '';
      const event = d.trigger?.type ?? '';
      m?.transitions.inc({ machine: w.machineId, from, to, event });
      const parent = entry.metadata?.['traceparent'];
      recordSpan(`${w.machineId} ${from || '(start)'} → ${to}`, {
        ...(typeof parent === 'string' ? { parent } : {}),
        kind: SpanKind.INTERNAL,
        startTime,
        endTime,
        // One span per committed transition; `always` steps it took on the way are its path.
        attributes: { 'ordo.service': o.service, 'ordo.machine': w.machineId, 'ordo.saga_id': w.id, 'ordo.from': from, 'ordo.to': to, 'ordo.event': event, 'ordo.path': [from, ...(d.path ?? []).map((p) => p.to ?? '')].filter(Boolean).join(' → ') },
      });
    }
    if (m) for (const a of w.alerts) m.alerts.inc({ kind: a.kind });
    if (m && w.status === 'final' && w.loaded?.status !== 'final') {
      // Age by the database's clock (`now() - created_at` when the batch locked the row); 0 when it started in this batch.
      m.sagaLatency.observe({ machine: w.machineId, outcome: w.snapshot.state }, w.loaded?.age_seconds ?? 0);
    }
  }
}
