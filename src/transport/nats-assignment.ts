/*
 * Who owns which partition of a (group, topic) on NATS: a pure planner, so the rules can be
 * tested without a broker. The coordinator (nats-leases.ts) feeds it what it sees in the
 * lease bucket and carries out the plan.
 *
 * Rules:
 * - The live members (heartbeat younger than `memberTtlMs`, plus oneself) sorted by id; the
 *   desired owner of partition p is members[p % n]. Everyone computes the same map.
 * - An owner renews its leases; it releases a partition whose desired owner is another live
 *   member (after draining it, see nats-partition.ts).
 * - A member takes a partition it should own when the lease is absent, released, or expired
 *   (the owner stopped renewing for `leaseTtlMs`, so it died or lost the broker).
 * - Taking over an expired lease, or one released uncleanly, means the old owner may have
 *   left messages delivered but unacked; they come back only after ack_wait. The new owner
 *   waits until then before pulling (`startAt`): the old owner is fenced by then and fewer
 *   deliveries wait at the new owner's order gate (nats-order-gate.ts), which is what keeps
 *   a key's older message from being overtaken by a newer one.
 */

export interface LeaseView {
  /** Owner's member id; null once released. */
  readonly owner: string | null;
  /** KV revision, for compare-and-set. */
  readonly revision: number;
  /** Server time (ms) the lease was last written (renewed or released). */
  readonly writtenAt: number;
  /** Set on release: true when the old owner saw and settled every message delivered to it. */
  readonly clean?: boolean;
}

export interface PlanInput {
  readonly now: number;
  readonly me: string;
  readonly partitions: number;
  /** Member id → server time (ms) of its last heartbeat. */
  readonly members: ReadonlyMap<string, number>;
  readonly leases: ReadonlyMap<number, LeaseView>;
  /** Partitions this member holds right now (acquired and not yet released or lost). */
  readonly owned: ReadonlySet<number>;
  readonly memberTtlMs: number;
  readonly leaseTtlMs: number;
  /** The consumers' ack_wait: how long unacked deliveries of a dead owner stay out. */
  readonly ackWaitMs: number;
  /** Heartbeat/renew interval. */
  readonly tickMs: number;
}

export interface Acquire {
  readonly partition: number;
  /** null: create the lease (it does not exist). */
  readonly revision: number | null;
  /** Do not pull before this time (ms); 0 = now. */
  readonly startAt: number;
}

export interface Plan {
  readonly renew: readonly number[];
  readonly release: readonly number[];
  readonly acquire: readonly Acquire[];
}

export function liveMembers(input: Pick<PlanInput, 'now' | 'me' | 'members' | 'memberTtlMs'>): string[] {
  const live = new Set<string>([input.me]);
  for (const [id, at] of input.members) if (input.now - at < input.memberTtlMs) live.add(id);
  return [...live].sort();
}

export function desiredOwner(members: readonly string[], partition: number): string {
  return members[partition % members.length] as string;
}

/** Margin for clock steps between the server's timestamps and ours, and timer slack. */
const MARGIN_MS = 1_000;

export function planPartitions(input: PlanInput): Plan {
  const members = liveMembers(input);
  const renew: number[] = [];
  const release: number[] = [];
  const acquire: Acquire[] = [];
  for (let p = 0; p < input.partitions; p++) {
    const lease = input.leases.get(p);
    const mine = desiredOwner(members, p) === input.me;
    if (input.owned.has(p)) {
      renew.push(p);
      if (!mine) release.push(p);
      continue;
    }
    if (!mine) continue;
    if (!lease) {
      acquire.push({ partition: p, revision: null, startAt: 0 });
    } else if (lease.owner === null) {
      // Released. Clean: the old owner settled everything it received, so pull now.
      acquire.push({ partition: p, revision: lease.revision, startAt: lease.clean ? 0 : lease.writtenAt + input.ackWaitMs + MARGIN_MS });
    } else if (lease.owner === input.me) {
      // Ours on the broker but not held here: a restart of this member under the same id
      // cannot happen (ids are random), so this is a lease we lost track of. Treat as expired.
      acquire.push({ partition: p, revision: lease.revision, startAt: lease.writtenAt + input.leaseTtlMs + input.ackWaitMs + MARGIN_MS });
    } else if (input.now - lease.writtenAt >= input.leaseTtlMs) {
      // The owner stopped renewing. It goes on pulling, handling and keeping deliveries alive
      // until leaseTtl − tick after it *sent* its last renewal, which was before the server
      // stamped writtenAt; so its last deliveries are redeliverable ack_wait after
      // writtenAt + leaseTtl at the latest. (Counting from one tick, as this once did, let a
      // new owner pull a key's newer message while the older one was still out: a stalled
      // owner, e.g. a starved event loop, broke per-key order.)
      acquire.push({ partition: p, revision: lease.revision, startAt: lease.writtenAt + input.leaseTtlMs + input.ackWaitMs + MARGIN_MS });
    }
  }
  return { renew, release, acquire };
}
