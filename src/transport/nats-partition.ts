import type { Consumer, ConsumerInfo, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { TransportLogger } from './logger.js';
import type { Message } from './message.js';
import { errorReason } from './names.js';
import { decodeDelivery } from './nats-codec.js';
import type { DeadLetter, Delivery } from './transport.js';
import { KeyChain, type ChainHost, type Entry } from './nats-key-chain.js';
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
 * while the member still holds a fresh lease.
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
  let maxDeliverySeq = o.deliveredAtStart;
  let wake: () => void = () => undefined;
  /** Sleeps, but wakes up early when the worker is stopped. */
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      t.unref();
      wake = () => (clearTimeout(t), r());
    });

  const keepAlive = setInterval(() => {
    if (!o.leaseFresh()) return;
    for (const e of outstanding.values()) e.msg.working();
  }, Math.max(100, Math.floor(o.ackWaitMs / 3)));
  keepAlive.unref();

  // Acks go out together once per event-loop turn: one socket write for many instead of one each.
  let acks: JsMsg[] = [];
  function flushAcks(): void {
    const batch = acks;
    acks = [];
    for (const m of batch) m.ack();
  }
  const trace = o.trace;
  const msgFields = (m: JsMsg, key?: string): Partial<NatsTraceEvent> => ({ streamSeq: m.seq, deliverySeq: m.info.deliverySequence, deliveryCount: m.info.deliveryCount, ...(key === undefined ? {} : { key }) });
  function ackSoon(m: JsMsg): void {
    trace?.('ack', msgFields(m));
    acks.push(m);
    if (acks.length === 1) setImmediate(flushAcks);
  }

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
    maxDeliverySeq = Math.max(maxDeliverySeq, msg.info.deliverySequence);
    const known = outstanding.get(seq);
    if (known) {
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

  /**
   * Deliveries can be lost on the way when a pull is stopped or the connection drops: the
   * broker counts them as delivered (consumer sequence) but we never saw them, and it gives
   * them back only after ack_wait. Until then nothing newer may be pulled, or a key's newer
   * message would be handled before its older one. Returns false if the check could not be made.
   */
  async function waitOutLostDeliveries(): Promise<boolean> {
    const info = await noPullsLeft();
    if (!info) return false;
    const delivered = info.delivered.consumer_seq;
    if (delivered > maxDeliverySeq) {
      o.logger.warn({ broker: 'nats', consumer: o.label, lost: delivered - maxDeliverySeq, waitMs: o.ackWaitMs }, 'nats: deliveries lost on the way; waiting for their redelivery before pulling newer messages');
      await pause(o.ackWaitMs + 1_000);
    }
    maxDeliverySeq = Math.max(maxDeliverySeq, delivered);
    return true;
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

  const pulling = (async () => {
    let check = false;
    while (!stopping) {
      if (!o.leaseFresh()) {
        check = true;
        await pause(100);
        continue;
      }
      if (check) {
        if (!(await waitOutLostDeliveries())) {
          await pause(500);
          continue;
        }
        check = false;
        if (stopping) break;
      }
      const epoch = o.connectionEpoch();
      let iterator: ConsumerMessages;
      try {
        iterator = await o.consumer.consume({ max_messages: o.batch, idle_heartbeat: 2_000, expires: 10_000 });
      } catch (err) {
        o.logger.warn({ broker: 'nats', consumer: o.label, err: errorReason(err) }, 'nats: pull failed, retrying');
        check = true;
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
      check = true;
    }
  })();

  return {
    async stop() {
      stopping = true;
      current?.stop();
      wake();
      await pulling;
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
      const settledAfter = settledBefore && (await noPullsLeft());
      const clean = settledAfter !== null && settledAfter.delivered.consumer_seq <= maxDeliverySeq;
      trace?.('stop', { clean });
      return { clean };
    },
  };
}
