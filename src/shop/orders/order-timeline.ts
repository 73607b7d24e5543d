import { timelineOf, MIGRATED, TRANSITION, START, type MigrationData, type TimelineEntry as StreamEntry, type TransitionData } from '../../eventsourcing/index.js';
import type { StoredMessage } from '../../store/index.js';
import type { TimelineEntry } from '../gateway/schemas.js';

/**
 * The gateway's view of an order's timeline (eventsourcing's `timelineOf`, the one
 * format): every state change in order (one entry per step of a path, so automatic
 * transitions show too), and every message the saga sent or published, retried or
 * dead-lettered, as `kind:Type`.
 */
export function orderTimeline(entries: readonly StreamEntry[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of entries) {
    const base = {
      at: e.at.toISOString(),
      ...(e.causationId !== undefined ? { causationId: e.causationId } : {}),
      ...(e.key !== undefined ? { correlationId: e.key } : {}),
    };
    if (e.type === TRANSITION) {
      const path = (e.data as Partial<TransitionData>).path ?? [];
      for (const step of path) out.push({ ...base, type: 'transition', from: step.from, to: step.to, data: { event: step.event } });
      if (path.length === 0 && e.trigger === START) out.push({ ...base, type: 'transition', to: e.to ?? '', data: { event: 'start' } });
      continue;
    }
    if (e.type === MIGRATED) {
      // The order moved to another version of the machine (ordo migrate): v1→v2, its state before and after.
      const d = e.data as Partial<MigrationData>;
      out.push({ ...base, type: 'migration', from: d.from ?? '', to: d.to ?? '', data: { fromVersion: d.fromVersion, toVersion: d.toVersion, mode: d.mode } });
      continue;
    }
    const kind = e.kind ?? 'message';
    out.push({ ...base, type: kind === 'timeline' ? e.type : `${kind}:${e.type}`, data: e.data });
  }
  return out;
}

/** An order's stream (live or archived) as the gateway shows it. */
export const orderTimelineOf = (messages: readonly StoredMessage[]): TimelineEntry[] => orderTimeline(timelineOf(messages));
