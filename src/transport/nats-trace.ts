/**
 * What the NATS consumer did, one event per step, for finding an interleaving after the
 * fact (a test prints them when a key came out of order). Off unless `trace` is given:
 * the hot path then pays one undefined check per message.
 *
 * - `acquire`: the lease of a partition was written for this member (`revision`), pulling
 *   waits until `startAt`. `start` / `stop`: pulling began / a graceful stop ended
 *   (`clean`). `release`: the lease was given back. `lost`: the lease was taken by another
 *   member (a renewal conflicted).
 * - `deliver`: a message arrived (`streamSeq`, `deliverySeq`, `deliveryCount`);
 *   `handle`: its handler starts; `ack`, `nak`, `term`: how it was settled.
 * - `hold`: the order gate shut (`detail` says why): deliveries are kept, not handled,
 *   until every unacked message of the partition is in hand; `open`: it opened again.
 */
export interface NatsTraceEvent {
  readonly at: number;
  readonly event: 'acquire' | 'start' | 'stop' | 'release' | 'lost' | 'deliver' | 'handle' | 'ack' | 'nak' | 'term' | 'hold' | 'open';
  /** The member (coordinator id) that did it. */
  readonly member: string;
  /** `<stream>.<group>.<topic>` */
  readonly prefix: string;
  readonly partition: number;
  /** KV revision of this member's lease at the time. */
  readonly revision?: number;
  readonly streamSeq?: number;
  readonly deliverySeq?: number;
  readonly deliveryCount?: number;
  readonly key?: string;
  readonly id?: string;
  readonly startAt?: number;
  readonly clean?: boolean;
  readonly ms?: number;
  readonly detail?: string;
}

export type NatsTrace = (event: NatsTraceEvent) => void;

/** One line per event, for a test's failure message. */
export function formatTraceEvent(e: NatsTraceEvent, t0 = 0): string {
  const parts = [`${String(e.at - t0).padStart(6)}ms`, e.member.slice(0, 6), `p${e.partition}`, e.event.padEnd(7)];
  if (e.revision !== undefined) parts.push(`rev=${e.revision}`);
  if (e.key !== undefined) parts.push(`key=${e.key}`);
  if (e.streamSeq !== undefined) parts.push(`sseq=${e.streamSeq}`);
  if (e.deliverySeq !== undefined) parts.push(`dseq=${e.deliverySeq}`);
  if (e.deliveryCount !== undefined) parts.push(`dc=${e.deliveryCount}`);
  if (e.startAt !== undefined) parts.push(`startAt=+${e.startAt - t0}`);
  if (e.clean !== undefined) parts.push(`clean=${e.clean}`);
  if (e.ms !== undefined) parts.push(`ms=${e.ms}`);
  if (e.detail !== undefined) parts.push(e.detail);
  return parts.join(' ');
}
