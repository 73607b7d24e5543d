import type { StoredMessage } from '../../store/index.js';
import type { TimelineEntry } from '../gateway/schemas.js';

interface TransitionData {
  trigger?: { type?: string; messageId?: string };
  from?: string;
  to?: string;
  path?: { from: string; to: string; event: string }[];
}

/**
 * An order's timeline from its stream in the log: every state change in order
 * (one entry per step of a path, so automatic transitions show too), and every
 * message the saga sent or published, retried or dead-lettered.
 */
export function timelineOf(messages: readonly StoredMessage[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const m of messages) {
    const meta = m.metadata;
    const base = {
      at: m.createdAt.toISOString(),
      ...(typeof meta['causationId'] === 'string' ? { causationId: meta['causationId'] } : {}),
      ...(typeof meta['key'] === 'string' ? { correlationId: meta['key'] } : {}),
    };
    if (m.type === 'ordo.transition') {
      const d = m.data as TransitionData;
      for (const step of d.path ?? []) out.push({ ...base, type: 'transition', from: step.from, to: step.to, data: { event: step.event } });
      if (!d.path?.length && d.trigger?.type === 'ordo.start') out.push({ ...base, type: 'transition', to: d.to ?? '', data: { event: 'start' } });
      continue;
    }
    const kind = typeof meta['kind'] === 'string' ? meta['kind'] : 'message';
    out.push({ ...base, type: kind === 'timeline' ? m.type : `${kind}:${m.type}`, data: m.data });
  }
  return out;
}
