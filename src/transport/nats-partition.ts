import type { Consumer, ConsumerInfo, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { TransportLogger } from './logger.js';
import type { Message } from './message.js';
import { errorReason } from './names.js';
import { decodeDelivery } from './nats-codec.js';
import type { DeadLetter, Delivery } from './transport.js';
import { KeyChain, type ChainHost, type Entry } from './nats-key-chain.js';
import { OrderGate } from './nats-order-gate.js';
import type { NatsTraceEvent } from './nats-trace.js';

/** A trace event of this partition; the caller adds member, prefix, partition, time and lease revision. */
export type PartitionTrace = (event: NatsTraceEvent['event'], fields?: Partial<NatsTraceEvent>) => void;

/*
 * One partition of a (group, topic), held by one member at a time (see nats-leases.ts).
 * Pulls continuously (up to max_ack_pending outstanding), and runs
 * a chain per key: a key's messages are handled one after another in stream order, different
 * keys at once. A handler that throws is retried here, in place, so a later message of the
 * same key can never overtake it; after `maxDeliver` attempts the message is dead-lettered
 * and the key moves on. Everything delivered and not yet acked is kept alive (working())
 * while the member still holds a fresh lease. A delivery reaches its chain only through
 * the order gate (nats-order-gate.ts): not while an older unacked message of the partition
 * may still be elsewhere.
 */

export interface PartitionWorkerOptions {
  readonly consumer: Consumer;
  readonly label: string;
  readonly group: string;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly redeliveryDelayMs: number;
  readonly batch: number;
  readonly logger: TransportLogger;
  readonly handler: (delivery: Delivery) => Promise<void>;
  /** Records the dead letter; throws if it could not (then it is tried again). */
  readonly deadLetter: (dead: DeadLetter) => Promise<void>;
  /** False while the lease is not known to be fresh: nothing is pulled, no handler starts, nothing is kept alive. */
  readonly leaseFresh: () => boolean;
  /** Changes whenever the connection to the broker dropped. */
  readonly connectionEpoch: () => number;
  /** Round trip to the broker: everything sent before (acks, unsubscribes) has been processed. */
  readonly flush: () => Promise<void>;
  /** The durable's delivered consumer sequence when this member took the partition. */
  readonly deliveredAtStart: number;
  readonly trace?: PartitionTrace;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
/** How long a sent ack is remembered (an ack the broker takes later than this is not expected). */
const RECENT_ACKS_MS = 10_000;

export interface PartitionWorker {
  /** Stops pulling, lets running handlers finish, returns the rest (nak) and says whether every delivery was settled. */
  stop(): Promise<{ clean: boolean }>;
}

export function startPartitionWorker(o: PartitionWorkerOptions): PartitionWorker {
  let stopping = false;
  const queues = new Map<string, Entry[]>();
  const outstanding = new Map<number, Entry>();
  let chainsRunning = 0;
  let chainsDone: (() => void) | null = null;
  let current: ConsumerMessages | null = null;
  const gate = new OrderGate(o.deliveredAtStart, Date.now(), o.ackWaitMs + 1_000);
  let wake: () => void = () => undefined;
  /** Sleeps, but wakes up early when the worker is stopped. */
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      t.unref();
      wake = () => (clearTimeout(t), r());
    });

  const keepAlive = setInterval(() => {
    forgetOldAcks();
    if (!o.leaseFresh()) return;
    for (const e of outstanding.values()) e.msg.working();
  }, Math.max(100, Math.floor(o.ackWaitMs / 3)));
  keepAlive.unref();

  // Acks go out together once per event-loop turn: one socket write for many instead of one each.
  // Only with a fresh lease: a member that lost it must not settle a message the next holder
  // may already count as in hand (see nats-order-gate.ts). Kept until the lease is fresh again,
  // or dropped when the partition is given up (the message comes back; the inbox absorbs it).
  let acks: JsMsg[] = [];
  function flushAcks(): void {
    if (!o.leaseFresh()) {
      if (stopping) {
        for (const m of acks) trace?.('ack', { ...msgFields(m), detail: 'dropped: lease not fresh' });
        acks = [];
      } else setTimeout(flushAcks, 100).unref();
      return;
    }
    const batch = acks;
    acks = [];
    if (batch.length > 0) sentAcks.push({ at: Date.now(), seqs: batch.map((m) => m.seq) });
    for (const m of batch) m.ack();
  }
  const trace = o.trace;
  const msgFields = (m: JsMsg, key?: string): Partial<NatsTraceEvent> => ({ streamSeq: m.seq, deliverySeq: m.info.deliverySequence, deliveryCount: m.info.deliveryCount, ...(key === undefined ? {} : { key }) });
  function ackSoon(e: Entry): void {
    trace?.('ack', msgFields(e.msg, e.message.key));
    acks.push(e.msg);
    if (acks.length === 1) setImmediate(flushAcks);
  }

  /*
   * The acks of the last seconds. The broker takes an ack of any delivery of a message as
   * its ack, so a message handled here, redelivered (its ack was late: held while the lease
   * was stale, or slow to arrive) and then acked by the late ack would count as in hand here
   * and not as unacked there, and hide a delivery that went astray from the order gate. Such
   * a redelivery (delivery count > 1, so the lookup is rare) is acked again, not handled.
   */
  const sentAcks: { at: number; seqs: number[] }[] = [];
  function forgetOldAcks(): void {
    const before = Date.now() - RECENT_ACKS_MS;
    while (sentAcks.length > 0 && (sentAcks[0] as { at: number }).at < before) sentAcks.shift();
  }
  const ackedHere = (seq: number) => acks.some((m) => m.seq === seq) || sentAcks.some((b) => b.seqs.includes(seq));

  const host: ChainHost = {
    group: o.group,
    maxDeliver: o.maxDeliver,
    redeliveryDelayMs: o.redeliveryDelayMs,
    handler: o.handler,
    stopping: () => stopping,
    leaseFresh: o.leaseFresh,
    ack: ackSoon,
    ...(trace ? { started: (e: Entry) => trace('handle', { ...msgFields(e.msg, e.message.key), id: e.message.id }) } : {}),
    async bury(e, dead) {
      e.dead = dead;
      try {
        await o.deadLetter(dead);
      } catch (err) {
        o.logger.error({ broker: 'nats', consumer: o.label, id: dead.message.id, err: errorReason(err) }, 'nats: could not dead-letter, will retry');
        return false;
      }
      if (!o.leaseFresh()) return false; // terminate it only while holding the partition
      trace?.('term', msgFields(e.msg, e.message.key));
      e.msg.term();
      return true;
    },
    settled: (e) => void outstanding.delete(e.seq),
    ended(chain) {
      if (chain.queue.length === 0) queues.delete(chain.key);
      chainsRunning -= 1;
      if (chainsRunning === 0) chainsDone?.();
    },
    error: (err) => o.logger.error({ broker: 'nats', consumer: o.label, err: errorReason(err) }, 'nats: chain failed'),
  };

  function dispatch(msg: JsMsg): void {
    const seq = msg.seq;
    if (gate.delivered(msg.info.deliverySequence, Date.now())) shut();
    if (msg.info.deliveryCount > 1 && !outstanding.has(seq) && ackedHere(seq)) {
      trace?.('ack', { ...msgFields(msg), detail: 'again: handled here already' });
      acks.push(msg);
      if (acks.length === 1) setImmediate(flushAcks);
      return;
    }
    const known = outstanding.get(seq);
    if (known) {
      trace?.('deliver', { ...msgFields(msg, known.message.key), detail: 'again while held' });
      known.msg = msg; // redelivered while still held here: keep the newest delivery
      return;
    }
    let message: Message;
    try {
      message = decodeDelivery(msg);
    } catch (err) {
      o.logger.error({ broker: 'nats', consumer: o.label, seq, err: errorReason(err) }, 'nats: undecodable message terminated');
      msg.term();
      return;
    }
    trace?.('deliver', msgFields(msg, message.key));
    const entry: Entry = { msg, seq, message, retries: 0 };
    outstanding.set(seq, entry);
    if (gate.open) enqueue(entry);
    else gate.hold(entry);
  }

  function enqueue(entry: Entry): void {
    const message = entry.message;
    const queue = queues.get(message.key);
    if (queue) {
      queue.push(entry);
      return;
    }
    const fresh = [entry];
    queues.set(message.key, fresh);
    chainsRunning += 1;
    new KeyChain(message.key, fresh, host).next();
  }

  /** The gate was shut: look at the broker until it can open (one loop at a time). */
  let reconciling: Promise<void> | null = null;
  function shut(): void {
    const state = gate.shut();
    trace?.('hold', { detail: state?.why ?? '' });
    reconciling ??= reconcile().finally(() => (reconciling = null));
  }

  async function reconcile(): Promise<void> {
    let warnedAt = Date.now();
    while (!stopping && !gate.open) {
      // Deliveries that went astray come back only to a pull of ours: no patience without one.
      if (!o.leaseFresh() || current === null) gate.restartPatience();
      if (o.leaseFresh()) {
        try {
          const info = await o.consumer.info();
          if (stopping) return;
          const ready = gate.tryOpen({ delivered: info.delivered.consumer_seq, pending: info.num_ack_pending }, outstanding.values(), Date.now());
          if (ready) {
            trace?.('open', { detail: `${ready.length} kept` });
            for (const e of ready) enqueue(e);
            return;
          }
        } catch {
          // broker unreachable: look again
        }
      }
      const state = gate.shut();
      if (state && Date.now() - warnedAt >= Math.max(30_000, 2 * o.ackWaitMs)) {
        warnedAt = Date.now();
        o.logger.warn({ broker: 'nats', consumer: o.label, heldMs: Date.now() - state.since, held: state.held, why: state.why }, 'nats: partition still waiting for unacked messages to come back before handing out newer ones');
      }
      await sleep(100);
    }
  }

  /**
   * Waits until the broker holds no pull request of ours (only the lease holder pulls this
   * durable), so nothing more can be delivered to a request we stopped listening to.
   * Returns the consumer's state then, or null if that could not be established.
   */
  async function noPullsLeft(): Promise<ConsumerInfo | null> {
    try {
      await o.flush();
      for (let i = 0; i < 40; i++) {
        const info = await o.consumer.info();
        if (info.num_waiting === 0) return info;
        await sleep(50);
      }
    } catch {
      // broker unreachable: unknown
    }
    return null;
  }

  shut();
  const pulling = (async () => {
    while (!stopping) {
      if (!o.leaseFresh()) {
        await pause(100);
        continue;
      }
      const epoch = o.connectionEpoch();
      let iterator: ConsumerMessages;
      try {
        iterator = await o.consumer.consume({ max_messages: o.batch, idle_heartbeat: 2_000, expires: 10_000 });
      } catch (err) {
        o.logger.warn({ broker: 'nats', consumer: o.label, err: errorReason(err) }, 'nats: pull failed, retrying');
        await pause(500);
        continue;
      }
      current = iterator;
      // Stop pulling at once when the lease goes stale, the connection dropped, or we stop.
      const watch = setInterval(() => {
        if (stopping || !o.leaseFresh() || o.connectionEpoch() !== epoch) iterator.stop();
      }, 50);
      try {
        for await (const msg of iterator) dispatch(msg);
      } catch (err) {
        o.logger.warn({ broker: 'nats', consumer: o.label, err: errorReason(err) }, 'nats: pull ended with an error');
      } finally {
        clearInterval(watch);
        current = null;
      }
      // Deliveries to the ended pull may be lost: the broker gives them back after ack_wait.
      if (!stopping && gate.close('a pull ended', Date.now())) shut();
    }
  })();

  return {
    async stop() {
      stopping = true;
      current?.stop();
      wake();
      await pulling;
      await reconciling;
      if (chainsRunning > 0) await new Promise<void>((r) => (chainsDone = r));
      flushAcks();
      clearInterval(keepAlive);
      // Not handled here: give them back, oldest first, once no pull of ours is left on the
      // broker, so they wait there for the next owner and come to it before anything newer.
      const settledBefore = await noPullsLeft();
      const left = [...outstanding.values()].sort((a, b) => a.seq - b.seq);
      for (const e of left) {
        trace?.('nak', msgFields(e.msg, e.message.key));
        e.msg.nak();
      }
      outstanding.clear();
      queues.clear();
      gate.clear();
      const settledAfter = settledBefore && (await noPullsLeft());
      const clean = settledAfter !== null && settledAfter.delivered.consumer_seq <= gate.lastDeliverySeq;
      trace?.('stop', { clean });
      return { clean };
    },
  };
}
