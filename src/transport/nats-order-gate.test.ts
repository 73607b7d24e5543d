import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import type { Entry } from './nats-key-chain.js';
import { OrderGate } from './nats-order-gate.js';

/** A delivery of stream message `seq` with consumer delivery sequence `dseq`. */
function entry(seq: number, dseq: number): Entry {
  const msg = { seq, info: { deliverySequence: dseq, deliveryCount: 1 } } as unknown as JsMsg;
  return { msg, seq, message: { id: `m${seq}`, topic: 't', key: 'k', type: 'T', payload: {}, headers: {} }, retries: 0 };
}

describe('order gate', () => {
  it('is shut when a member takes a partition, and opens when the broker has nothing unacked outside', () => {
    const gate = new OrderGate(10, 0, 3_000);
    expect(gate.open).toBe(false);
    expect(gate.tryOpen({ delivered: 10, pending: 0 }, [], 0)).toEqual([]);
    expect(gate.open).toBe(true);
  });

  it('keeps deliveries back while the previous holder still has unacked messages, then hands them out in stream order', () => {
    // The interleaving nats-rebalance.int.test.ts caught: the broker gave back 747 (expired
    // in an earlier pass) before 435 (naked later), and the new holder handled 747 first.
    const gate = new OrderGate(200, 0, 3_000);
    const inHand: Entry[] = [];
    const receive = (e: Entry) => {
      gate.delivered(e.msg.info.deliverySequence, 0);
      inHand.push(e);
      gate.hold(e);
    };
    receive(entry(747, 201));
    // 435 is still out (pending 2, one in hand): nothing may be handed out.
    expect(gate.tryOpen({ delivered: 201, pending: 2 }, inHand, 0)).toBeNull();
    receive(entry(435, 202));
    const out = gate.tryOpen({ delivered: 202, pending: 2 }, inHand, 0);
    expect(out?.map((e) => e.seq)).toEqual([435, 747]);
    expect(gate.open).toBe(true);
  });

  it('stays shut while the broker made a delivery that has not reached this member', () => {
    const gate = new OrderGate(5, 0, 3_000);
    gate.delivered(6, 0);
    // Delivery 7 went to a pull nobody listens to (lost): pending counts it, we never saw it.
    expect(gate.tryOpen({ delivered: 7, pending: 1 }, [entry(100, 6)], 0)).toBeNull();
    // Even if the count looks right (an ack may be late), an unseen delivery keeps it shut…
    expect(gate.tryOpen({ delivered: 7, pending: 1 }, [entry(100, 6)], 1_000)).toBeNull();
    expect(gate.tryOpen({ delivered: 7, pending: 1 }, [entry(100, 6)], 2_999)).toBeNull();
    // …until it has not come back for the patience (ack_wait and a margin): it was settled elsewhere.
    expect(gate.tryOpen({ delivered: 7, pending: 1 }, [entry(100, 6)], 3_000)?.map((e) => e.seq)).toEqual([]);
  });

  it('starts its patience again when a later delivery was unseen, or it could not pull meanwhile', () => {
    const gate = new OrderGate(5, 0, 3_000);
    gate.delivered(6, 0);
    expect(gate.tryOpen({ delivered: 7, pending: 0 }, [], 0)).toBeNull();
    gate.delivered(8, 2_000); // 7 was seen after all (as 8's predecessor went astray, say)
    expect(gate.tryOpen({ delivered: 9, pending: 0 }, [], 3_500)).toBeNull(); // 9 unseen: patience from 3.5 s
    gate.restartPatience(); // the lease went stale: nothing could come back
    expect(gate.tryOpen({ delivered: 9, pending: 0 }, [], 6_000)).toBeNull();
    expect(gate.tryOpen({ delivered: 9, pending: 0 }, [], 8_999)).toBeNull();
    expect(gate.tryOpen({ delivered: 9, pending: 0 }, [], 9_000)).toEqual([]);
  });

  it('does not count deliveries the broker made after its answer as in hand', () => {
    const gate = new OrderGate(0, 0, 3_000);
    gate.delivered(1, 0);
    gate.delivered(2, 0);
    // The broker answered after delivery 1 (pending 2: ours and one elsewhere); delivery 2 came later.
    expect(gate.tryOpen({ delivered: 1, pending: 2 }, [entry(10, 1), entry(11, 2)], 0)).toBeNull();
  });

  it('shuts on a jump in the delivery sequence, not on consecutive deliveries', () => {
    const gate = new OrderGate(0, 0, 3_000);
    gate.tryOpen({ delivered: 0, pending: 0 }, [], 0);
    expect(gate.delivered(1, 0)).toBe(false);
    expect(gate.delivered(2, 0)).toBe(false);
    expect(gate.open).toBe(true);
    expect(gate.delivered(4, 5)).toBe(true);
    expect(gate.open).toBe(false);
    expect(gate.shut()).toEqual({ since: 5, why: 'delivery sequence jumped to 4', held: 0 });
    expect(gate.lastDeliverySeq).toBe(4);
  });

  it('shuts when told to (a pull ended) and only reports the first time', () => {
    const gate = new OrderGate(0, 0, 3_000);
    gate.tryOpen({ delivered: 0, pending: 0 }, [], 0);
    expect(gate.close('a pull ended', 1)).toBe(true);
    expect(gate.close('a pull ended', 2)).toBe(false);
    expect(gate.shut()?.since).toBe(1);
  });
});
