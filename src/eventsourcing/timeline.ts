import { readStream, type Queryable, type StoredMessage } from '../store/index.js';
import { noUpcasters, type Upcasters } from './upcasters.js';

/** One message of a stream as the dashboard and `GET /orders/:id` show it. */
export interface TimelineEntry {
  readonly version: number;
  readonly at: Date;
  readonly messageId: string;
  readonly type: string;
  /** For transitions: the machine event that caused it, and the states left and entered. */
  readonly trigger?: string;
  readonly from?: string | null;
  readonly to?: string;
  /** `timeline` (transitions), `event` or `command` (the outbox), when the writer said so. */
  readonly kind?: string;
  /** The ordering key the message was written with (`metadata.key`: the saga id for the runtime's streams). */
  readonly key?: string;
  readonly causationId?: string;
  readonly correlationId?: string;
  readonly data: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Messages of one stream (as read, or from an archive), oldest first, as timeline entries. */
export function timelineOf(messages: readonly StoredMessage[], options: { upcasters?: Upcasters } = {}): TimelineEntry[] {
  const upcasters = options.upcasters ?? noUpcasters;
  return messages.map((raw) => {
    const m = upcasters.upcast(raw);
    const d = (typeof m.data === 'object' && m.data !== null ? m.data : {}) as Record<string, unknown>;
    const trigger = d['trigger'] as { type?: unknown } | undefined;
    const entry: Record<string, unknown> = { version: m.streamVersion, at: m.createdAt, messageId: m.id, type: m.type, data: m.data };
    const t = str(trigger?.type);
    if (t !== undefined) entry['trigger'] = t;
    if ('from' in d && (typeof d['from'] === 'string' || d['from'] === null)) entry['from'] = d['from'];
    if (typeof d['to'] === 'string') entry['to'] = d['to'];
    for (const k of ['kind', 'key', 'causationId', 'correlationId'] as const) {
      const v = str(m.metadata[k]);
      if (v !== undefined) entry[k] = v;
    }
    return entry as unknown as TimelineEntry;
  });
}

/** Every message of the stream, oldest first, with its time, causation and correlation. */
export async function readTimeline(q: Queryable, stream: string, options: { upcasters?: Upcasters } = {}): Promise<TimelineEntry[]> {
  return timelineOf(await readStream(q, stream), options);
}
