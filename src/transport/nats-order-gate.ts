import type { Entry } from './nats-key-chain.js';

/*
 * When the holder of a partition may hand a delivery to its key's chain.
 *
 * JetStream redelivers a partition's unacked messages in the order they *became*
 * redeliverable (each ack_wait expiry pass and each nak appends to the consumer's
 * redelivery queue), not in stream order, and it hands out new messages as soon as that
 * queue is empty, even while older ones are still out with a member that stopped or on
 * their way to a pull nobody listens to any more. So "wait ack_wait, then pull" (the old
 * rule) does not keep a key in order: after two hand-overs a key's message 747 came back
 * before its message 435 (nats-rebalance.int.test.ts, 3 runs in 29).
 *
 * The gate makes order a property of what the holder knows rather than of timing:
 * - It is shut when the holder starts and whenever deliveries may have gone astray (a
 *   pull ended; the consumer's delivery sequence jumped, so some delivery went elsewhere).
 * - While shut, deliveries are kept (and kept alive) but not handed to the chains.
 * - It opens once the broker says every delivered, unacked message of the partition is
 *   in this member's hands: the number unacked (`num_ack_pending`) is not more than those we
 *   hold from before that answer, and nothing was delivered that we have not seen
 *   (`delivered.consumer_seq` ≤ the last delivery sequence we received) — or what was has
 *   not come back within ack_wait while we pulled, so it is settled.
 *   The kept deliveries then go to their chains in stream order.
 * - While open, deliveries come in delivery-sequence order on one pull: a new message is
 *   newer than everything delivered before, and a redelivery is of a message in hand. A
 *   gap in the delivery sequence shuts the gate before the delivery after it is handed out.
 *
 * The count is fooled by a message we hold that the broker no longer counts as unacked, so
 * those are kept out of our hands: the broker takes an ack of *any* delivery of a message,
 * so a redelivery of a message this member acked already (its ack was late) is acked again
 * rather than held (nats-partition.ts), and a member acks or terminates only with a fresh
 * lease, so the previous holder's acks stop before the next one starts. What is left: an
 * ack already on the wire when the lease went stale and slower than the hand-over, a message
 * dropped after max_deliver while held past ack_wait, one aged out of the stream.
 */

export interface BrokerView {
  /** `delivered.consumer_seq`: deliveries the consumer made so far. */
  readonly delivered: number;
  /** `num_ack_pending`: delivered and not yet acked or terminated. */
  readonly pending: number;
}

export class OrderGate {
  private shutSince: number | null;
  private why: string;
  private lastDelivery: number;
  private held: Entry[] = [];
  /** Deliveries up to `upTo` were made and not seen here, first noticed at `since`. */
  private unseen: { upTo: number; since: number } | null = null;

  /**
   * Shut at first: the previous holder's deliveries may still be out. `patienceMs` (ack_wait
   * and a margin): how long deliveries the broker made and this member never saw may keep it
   * shut while the counts agree — by then any of them still unacked came back here.
   */
  constructor(
    deliveredAtStart: number,
    now: number,
    private readonly patienceMs: number,
  ) {
    this.lastDelivery = deliveredAtStart;
    this.shutSince = now;
    this.why = 'taking the partition';
  }

  get open(): boolean {
    return this.shutSince === null;
  }

  /** Since when (ms) and why it is shut, or null. */
  shut(): { since: number; why: string; held: number } | null {
    return this.shutSince === null ? null : { since: this.shutSince, why: this.why, held: this.held.length };
  }

  /** The highest delivery sequence received: everything up to it reached us or went astray. */
  get lastDeliverySeq(): number {
    return this.lastDelivery;
  }

  /** Shuts the gate (no-op when shut already); returns whether it was open. */
  close(why: string, now: number): boolean {
    if (this.shutSince !== null) return false;
    this.shutSince = now;
    this.why = why;
    return true;
  }

  /** Notes a delivery's consumer sequence; a jump means one went elsewhere, so it shuts. Returns whether that shut it. */
  delivered(deliverySeq: number, now: number): boolean {
    const gap = deliverySeq !== this.lastDelivery + 1;
    this.lastDelivery = Math.max(this.lastDelivery, deliverySeq);
    return gap && this.close(`delivery sequence jumped to ${deliverySeq}`, now);
  }

  /** Keeps a delivery back while shut. */
  hold(entry: Entry): void {
    this.held.push(entry);
  }

  /**
   * With the broker's answer and what we hold (read after the answer came), opens the gate
   * if every unacked message is in hand, and returns the kept deliveries in stream order;
   * otherwise null. Only deliveries the broker had made by its answer count as in hand.
   */
  tryOpen(view: BrokerView, inHand: Iterable<Entry>, now: number): Entry[] | null {
    if (this.shutSince === null) return [];
    let mine = 0;
    for (const e of inHand) if (e.msg.info.deliverySequence <= view.delivered) mine += 1;
    if (view.pending > mine) return null;
    if (view.delivered > this.lastDelivery) {
      // A delivery has not reached us (yet), or went astray. Unacked, it comes back here
      // within ack_wait; one that never does was settled elsewhere (a late ack) and must not
      // keep the partition shut until the next message happens to arrive.
      if (this.unseen === null || this.lastDelivery >= this.unseen.upTo) this.unseen = { upTo: view.delivered, since: now };
      if (now - this.unseen.since < this.patienceMs) return null;
    }
    this.unseen = null;
    this.shutSince = null;
    const out = this.held.sort((a, b) => a.seq - b.seq);
    this.held = [];
    return out;
  }

  /** The lease was not fresh: nothing came back meanwhile, so the patience starts again. */
  restartPatience(): void {
    this.unseen = null;
  }

  /** Forgets the kept deliveries (they are given back by the caller). */
  clear(): void {
    this.held = [];
  }
}
