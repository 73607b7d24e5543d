import { Consumer, GenericError, NetworkError, stringDeserializers, type Message as KafkaMessage, type MessagesStream } from '@platformatic/kafka';
import { decode } from './kafka-codec.js';
import type { KafkaHealth } from './kafka-health.js';
import type { TransportLogger } from './logger.js';
import type { Message } from './message.js';
import { DEFAULT_MAX_DELIVER, errorReason } from './names.js';
import type { DeadLetter, SubscribeOptions, Subscription } from './transport.js';
import { KeyedWindow } from './keyed-window.js';

type Record = KafkaMessage<string, string, string, string>;

export interface KafkaSubscriptionContext {
  readonly base: { clientId: string; bootstrapBrokers: string[]; timeout: number; retries: number; retryDelay: number };
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly redeliveryDelayMs: number;
  /** Records of one partition handled at once, never two of one key (keyed-window.ts). */
  readonly concurrencyPerPartition: number;
  readonly logger: TransportLogger;
  readonly health: KafkaHealth;
  deadLetter(dead: DeadLetter, perSubscription: SubscribeOptions['onDeadLetter']): Promise<void>;
  /** Checks the topic exists (again), creating it if it vanished. */
  ensureTopic(topic: string): Promise<void>;
}

/** The work of one assigned partition: several records at once, in offset order per key. */
interface PartitionWork {
  readonly partition: number;
  readonly window: KeyedWindow<Record>;
  /** Next offset expected from the fetcher; lower ones are a re-fetch of what is queued already. */
  nextOffset: bigint;
  /** Offset to commit (one past the gap-free handled prefix), once there is one. */
  handled: bigint | undefined;
  committed: bigint | undefined;
  readonly running: Set<Promise<void>>;
  /** Handlers of this partition's previous worker in this member (before a rejoin) still finishing: nothing starts before. */
  waitFor: Promise<void> | undefined;
  /** Set when the partition is revoked or the member restarts: stop without committing. */
  cancelled: boolean;
}

const MAX_BUFFERED = 512;
/** While a member cannot be rebuilt, it says so at most this often. */
const STILL_DOWN_LOG_MS = 30_000;
let members = 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Force-closes a consumer (leaves the group); never throws. */
const closeConsumer = (c: Consumer<string, string, string, string>) => new Promise<void>((r) => c.close(true, () => r()));

class Cancelled extends Error {}

/**
 * One consumer-group member. Records of a partition are handled up to
 * `concurrencyPerPartition` at once, one at a time per key, in offset order per key; a
 * partition's offset is committed only over records whose handlers all resolved. A handler
 * that throws runs again on the same record (its key waits) until `maxDeliver`, then
 * the record goes to `<topic>.dlq`. If the stream dies (broker restart, lost coordinator),
 * the member is rebuilt with backoff and resumes from the committed offsets.
 */
export async function startKafkaSubscription(ctx: KafkaSubscriptionContext, sub: SubscribeOptions): Promise<Subscription> {
  const maxDeliver = sub.maxDeliver ?? DEFAULT_MAX_DELIVER;
  const work = new Map<number, PartitionWork>();
  let consumer: Consumer<string, string, string, string> | undefined;
  let stream: MessagesStream<string, string, string, string> | undefined;
  let buffered = 0;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  /** Partitions of the topic this member owns now (undefined until the first join). */
  let assigned: Set<number> | undefined;
  /** Handlers still finishing on a partition that was revoked; a new owner-local worker waits for them. */
  const finishing = new Map<number, Promise<void>>();
  let committing: Promise<void> | undefined;
  let commitAgain = false;
  /** This member's name in the transport's health. */
  const part = `consumer ${kafkaGroupId(sub.group, sub.topic)} #${++members}`;

  function cancelAll(keep: (partition: number) => boolean): void {
    for (const [partition, w] of work) {
      if (keep(partition)) continue;
      w.cancelled = true;
      if (w.running.size > 0 || w.waitFor) finishing.set(partition, Promise.allSettled([...w.running, w.waitFor]).then(() => undefined));
      buffered -= w.window.size;
      work.delete(partition);
    }
    if (buffered < 0) buffered = 0;
    // The dropped records may have been what paused the stream, and no handler may be left to
    // resume it: a paused stream stops fetching for every partition this member keeps.
    resumeIfDrained();
  }

  function resumeIfDrained(): void {
    if (buffered < MAX_BUFFERED / 2 && stream?.isPaused() && !stopping) stream.resume();
  }

  function onRecord(record: Record): void {
    // A fetch answered after a rebalance may still carry partitions this member lost.
    if (assigned && !assigned.has(record.partition)) return;
    let w = work.get(record.partition);
    if (!w) {
      // Never a key's record here while the previous worker of this partition still runs one, even across a rejoin.
      const before = finishing.get(record.partition);
      finishing.delete(record.partition);
      const fresh: PartitionWork = { partition: record.partition, window: new KeyedWindow(ctx.concurrencyPerPartition), nextOffset: -1n, handled: undefined, committed: undefined, running: new Set(), waitFor: before, cancelled: false };
      before?.then(() => {
        fresh.waitFor = undefined;
        kick(fresh);
      }, () => undefined);
      w = fresh;
      work.set(record.partition, w);
    }
    if (record.offset < w.nextOffset) return; // re-fetched after a rejoin; already queued
    w.nextOffset = record.offset + 1n;
    w.window.push(record.offset, record.key ?? '', record);
    buffered += 1;
    if (buffered >= MAX_BUFFERED) stream?.pause();
    kick(w);
  }

  /** Starts every record of the partition that may run now. */
  function kick(w: PartitionWork): void {
    if (w.waitFor || w.cancelled || stopping) return;
    for (const { offset, item } of w.window.take()) {
      const run = runRecord(item, offset, w)
        .catch((err: unknown) => ctx.logger.error({ broker: 'kafka', topic: sub.topic, partition: w.partition, offset: String(offset), err: errorReason(err) }, 'kafka: record handling failed'))
        .finally(() => {
        w.running.delete(run);
        kick(w);
      });
      w.running.add(run);
    }
  }

  async function runRecord(record: Record, offset: bigint, w: PartitionWork): Promise<void> {
    try {
      await handleRecord(record, w);
    } catch (err) {
      if (err instanceof Cancelled) return;
      throw err;
    }
    if (w.cancelled) return;
    const { commit: next, released } = w.window.finish(offset);
    buffered -= released;
    resumeIfDrained();
    if (next === undefined) return;
    w.handled = next;
    void commit();
  }

  async function handleRecord(record: Record, w: PartitionWork): Promise<void> {
    let message: Message;
    try {
      message = decode(record);
    } catch (err) {
      ctx.logger.error({ broker: 'kafka', topic: record.topic, partition: record.partition, offset: String(record.offset), err: errorReason(err) }, 'kafka: undecodable record skipped');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      if (w.cancelled || stopping) throw new Cancelled();
      try {
        await sub.handler({ message, attempt });
        return;
      } catch (err) {
        if (attempt >= maxDeliver) {
          await deadLetter({ message, group: sub.group, attempts: attempt, reason: errorReason(err) }, w);
          return;
        }
        await sleep(ctx.redeliveryDelayMs);
      }
    }
  }

  async function deadLetter(dead: DeadLetter, w: PartitionWork): Promise<void> {
    // Keep trying: committing past a record that is neither handled nor dead-lettered would lose it.
    for (let wait = ctx.redeliveryDelayMs; ; wait = Math.min(wait * 2, 5_000)) {
      if (w.cancelled || stopping) throw new Cancelled();
      try {
        await ctx.deadLetter(dead, sub.onDeadLetter);
        return;
      } catch (err) {
        ctx.logger.error({ broker: 'kafka', id: dead.message.id, err: errorReason(err) }, 'kafka: could not dead-letter, retrying');
        await sleep(wait);
      }
    }
  }

  /**
   * Commits every partition's handled offset; coalesces while a commit is in flight, and then
   * resolves when that one and the one it owes are done (so `close()` does not close the
   * client under a commit: "Client is closed", and the last offsets not committed).
   */
  function commit(): Promise<void> {
    if (committing) {
      commitAgain = true;
      return committing;
    }
    committing = commitLoop().finally(() => {
      committing = undefined;
    });
    return committing;
  }

  async function commitLoop(): Promise<void> {
    do {
      commitAgain = false;
      const pending = [...work.values()].filter((w) => w.handled !== undefined && w.handled !== w.committed && !w.cancelled);
      const c = consumer;
      if (pending.length === 0 || !c) break;
      const offsets = pending.map((w) => ({ topic: sub.topic, partition: w.partition, offset: w.handled as bigint, leaderEpoch: -1 }));
      try {
        await c.commit({ offsets });
        for (let i = 0; i < pending.length; i++) (pending[i] as PartitionWork).committed = offsets[i]?.offset;
      } catch (err) {
        // A rebalance or a broker restart: the records will be delivered again (the inbox absorbs them).
        // Said only for the live member: one closed meanwhile by a rejoin fails with "Client is closed".
        if (consumer === c) ctx.logger.warn({ broker: 'kafka', group: sub.group, err: errorReason(err) }, 'kafka: offset commit failed');
        break;
      }
    } while (commitAgain);
  }

  async function start(): Promise<void> {
    const c = new Consumer<string, string, string, string>({
      ...ctx.base,
      // One Kafka group per (group, topic): members of one group that subscribe to
      // different topics would otherwise share one assignment and starve each other.
      groupId: kafkaGroupId(sub.group, sub.topic),
      sessionTimeout: ctx.sessionTimeoutMs,
      heartbeatInterval: ctx.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(ctx.sessionTimeoutMs, 10_000),
      deserializers: stringDeserializers,
      autocommit: false,
    });
    try {
      const s = await c.consume({ topics: [sub.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 200, highWaterMark: 256 });
      consumer = c;
      stream = s;
      assigned = new Set(c.assignments?.filter((a) => a.topic === sub.topic).flatMap((a) => a.partitions) ?? []);
    } catch (err) {
      await closeConsumer(c);
      throw err;
    }
    // Emitted when a rejoin after a lost membership failed; without a listener it would crash the process.
    c.on('error', (err: Error) => {
      if (stopping || consumer !== c) return;
      ctx.health.down(part, errorReason(err));
      ctx.logger.warn({ broker: 'kafka', group: sub.group, topic: sub.topic, err: errorReason(err) }, 'kafka: consumer lost its group membership, rejoining');
      void restart();
    });
    // @platformatic/kafka 1.x stops heartbeating for good after a heartbeat fails with an error
    // that does not ask for a rejoin (a timeout, a lost connection): it cancels the timer and
    // then refreshes the cancelled one. The broker then drops the member while its fetch loop,
    // if it is idle or paused, goes on later with partitions that are someone else's. Rebuild it.
    c.on('consumer:heartbeat:error', (payload: { error?: unknown }) => {
      if (stopping || consumer !== c) return;
      ctx.health.down(part, errorReason(payload.error));
      ctx.logger.warn({ broker: 'kafka', group: sub.group, topic: sub.topic, err: errorReason(payload.error) }, 'kafka: consumer heartbeat failed, rejoining');
      void restart();
    });
    c.on('consumer:group:join', (payload) => {
      const mine = new Set(payload.assignments?.filter((a) => a.topic === sub.topic).flatMap((a) => a.partitions) ?? []);
      assigned = mine;
      cancelAll((p) => mine.has(p));
    });
    const current = stream;
    // A member being replaced may still deliver a fetch it had in flight: not ours any more.
    stream.on('data', (record: Record) => {
      if (stream === current) onRecord(record);
    });
    stream.on('error', (err: Error) => {
      if (stopping) return;
      ctx.health.down(part, errorReason(err));
      ctx.logger.warn({ broker: 'kafka', group: sub.group, topic: sub.topic, err: errorReason(err) }, 'kafka: consumer stream failed, rejoining');
    });
    stream.on('close', () => {
      if (!stopping && stream === current) void restart();
    });
    ctx.health.up(part);
  }

  function restart(): Promise<void> {
    restarting ??= (async () => {
      const old = consumer;
      consumer = undefined;
      stream = undefined;
      cancelAll(() => false);
      if (old) await closeConsumer(old);
      const since = Date.now();
      let saidAt = 0;
      for (let attempt = 1, wait = 250; !stopping; attempt++, wait = Math.min(wait * 2, 4_000)) {
        try {
          // The broker may have come back without the topic (deleted, or another broker's data).
          await ctx.ensureTopic(sub.topic);
          await start();
          ctx.logger.info({ broker: 'kafka', group: sub.group, topic: sub.topic, attempts: attempt }, 'kafka: consumer rejoined');
          return;
        } catch (err) {
          ctx.health.down(part, errorReason(err));
          // Never silently: a member that cannot come back consumes nothing.
          if (Date.now() - saidAt >= STILL_DOWN_LOG_MS) {
            saidAt = Date.now();
            ctx.logger.warn({ broker: 'kafka', group: sub.group, topic: sub.topic, attempts: attempt, downForMs: saidAt - since, err: errorReason(err) }, 'kafka: consumer cannot rejoin yet, retrying with backoff');
          }
          await sleep(wait);
        }
      }
    })().finally(() => {
      restarting = undefined;
    });
    return restarting;
  }

  await joinFirst();

  /**
   * The first join. A broker that just started answers COORDINATOR_NOT_AVAILABLE (or
   * NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) until it has created and loaded its offsets
   * topic, which on a busy machine takes longer than the client's own few retries; that is
   * worth waiting for (saying so) rather than failing the subscribe, and the service with it.
   * An unreachable broker, or a coordinator still missing after a while, fails it.
   */
  async function joinFirst(): Promise<void> {
    const deadline = Date.now() + Math.max(30_000, 3 * ctx.sessionTimeoutMs);
    for (let attempt = 1, wait = 250; ; attempt++, wait = Math.min(wait * 2, 2_000)) {
      try {
        await start();
        if (attempt > 1) ctx.logger.info({ broker: 'kafka', group: sub.group, topic: sub.topic, attempts: attempt }, 'kafka: consumer joined its group');
        return;
      } catch (err) {
        if (!coordinatorNotReady(err) || Date.now() >= deadline || stopping) throw err;
        if (attempt === 1) ctx.logger.info({ broker: 'kafka', group: sub.group, topic: sub.topic, err: errorReason(err) }, 'kafka: group coordinator not ready yet, retrying');
        await sleep(wait);
      }
    }
  }

  return {
    async close() {
      if (stopping) return;
      stopping = true;
      stream?.pause();
      await restarting;
      await Promise.allSettled([...work.values()].flatMap((w) => [...w.running]));
      await commit();
      const s = stream;
      stream = undefined;
      await s?.close().catch(() => undefined);
      if (consumer) await closeConsumer(consumer);
      ctx.health.forget(part);
    },
  };
}

/** A retryable protocol error (the coordinator is not there yet) and no network error anywhere in the chain. */
function coordinatorNotReady(err: unknown): boolean {
  if (!(err instanceof Error) || !GenericError.isGenericError(err)) return false;
  const generic: Pick<GenericError, 'findBy'> = err;
  return generic.findBy('canRetry', true) !== null && generic.findBy('code', NetworkError.code) === null;
}

/** The Kafka consumer group behind ordo's (group, topic) pair. */
export function kafkaGroupId(group: string, topic: string): string {
  return `${group}.${topic}`;
}
