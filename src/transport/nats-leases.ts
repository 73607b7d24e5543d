import { randomUUID } from 'node:crypto';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { TransportLogger } from './logger.js';
import { errorReason } from './names.js';
import { desiredOwner, liveMembers, planPartitions, type Acquire, type LeaseView } from './nats-assignment.js';
import type { NatsTrace, NatsTraceEvent } from './nats-trace.js';

/*
 * Partition leases for one (group, topic) on NATS, kept in a JetStream key-value bucket:
 *   <stream>.<group>.<topic>.m.<member>   heartbeat of a member
 *   <stream>.<group>.<topic>.p.<n>        lease of partition n: { owner, clean? }
 * Every write is compare-and-set on the key's revision, so two members can never both
 * believe they took the same lease. A member that cannot renew stops starting handlers
 * (fenced) before its lease can expire for the others; see nats-assignment.ts for who
 * takes what and when.
 */

export interface PartitionHost {
  /** Starts pulling partition p. */
  start(partition: number): Promise<void>;
  /** Stops it gracefully; clean = every delivery was settled or given back. */
  stop(partition: number): Promise<{ clean: boolean }>;
}

export interface LeaseCoordinatorOptions {
  readonly kv: KV;
  /** `<stream>.<group>.<topic>` */
  readonly prefix: string;
  readonly partitions: number;
  readonly ackWaitMs: number;
  readonly tickMs: number;
  readonly leaseTtlMs: number;
  readonly logger: TransportLogger;
  readonly host: PartitionHost;
  readonly trace?: NatsTrace;
}

interface Held {
  revision: number;
  lastRenewOk: number;
  /** 'waiting' until it started (at `startAt` or later); 'running' once started; 'stopping' during a release. */
  phase: 'waiting' | 'running' | 'stopping';
  /** Not before this (ms): the previous holder's deliveries must be redeliverable first, or a failed start is retried with backoff. */
  startAt: number;
  /** Failed attempts to start pulling (broker away): retried with backoff for as long as the lease is held. */
  startFailures: number;
  /** When a failed start was last logged. */
  complainedAt: number;
  /** Whether the partition was taken over cleanly (used if it is released before it ran). */
  readonly cleanStart: boolean;
  /** Writes of this lease, one after another, so each uses the revision the last one made. */
  writes: Promise<unknown>;
}

const encode = (value: unknown) => JSON.stringify(value);
const isConflict = (err: unknown) => err instanceof JetStreamApiError && err.code === 10071;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
/** A partition that cannot start is retried after 250 ms, doubling up to this. */
const MAX_START_BACKOFF_MS = 5_000;
/** A partition that keeps failing to start says so again this often. */
const COMPLAIN_EVERY_MS = 30_000;

export class LeaseCoordinator {
  readonly me = randomUUID().replace(/-/g, '');
  private readonly members = new Map<string, number>();
  private readonly leases = new Map<number, LeaseView>();
  private readonly held = new Map<number, Held>();
  private readonly busy = new Set<number>();
  private watcher: QueuedIterator<KvWatchEntry> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private closing = false;
  private heartbeatFailing = false;
  private started = false;
  private again = false;

  constructor(private readonly o: LeaseCoordinatorOptions) {}

  /** Records a step of partition p, stamped with this member and its lease revision. */
  trace(partition: number, event: NatsTraceEvent['event'], fields: Partial<NatsTraceEvent> = {}): void {
    const revision = this.held.get(partition)?.revision;
    this.o.trace?.({ at: Date.now(), member: this.me, prefix: this.o.prefix, partition, event, ...(revision === undefined ? {} : { revision }), ...fields });
  }

  private key(kind: 'm' | 'p', id: string | number): string {
    return `${this.o.prefix}.${kind}.${id}`;
  }

  /** Registers this member, follows the others, and takes its share. */
  async start(): Promise<void> {
    await this.o.kv.put(this.key('m', this.me), encode({ at: Date.now() }));
    this.members.set(this.me, Date.now());
    const watcher = await this.o.kv.watch({ key: `${this.o.prefix}.>` });
    this.watcher = watcher;
    let synced: () => void = () => undefined;
    const ready = new Promise<void>((r) => (synced = r));
    void (async () => {
      for await (const e of watcher) {
        this.observe(e);
        if (e.key === this.key('m', this.me) || e.isUpdate) synced();
      }
    })();
    // Our own heartbeat is the newest key, so once it is seen every other one was too.
    await Promise.race([ready, sleep(this.o.tickMs * 3)]);
    this.started = true;
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.tickMs);
    this.timer.unref();
    await this.settled(this.o.leaseTtlMs);
  }

  /** Whether this member may hand out messages of the partition now. */
  fresh(partition: number): boolean {
    const h = this.held.get(partition);
    return h !== undefined && h.phase !== 'waiting' && Date.now() - h.lastRenewOk < this.o.leaseTtlMs - this.o.tickMs;
  }

  heldPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private observe(e: KvWatchEntry): void {
    const rest = e.key.slice(this.o.prefix.length + 1);
    const [kind, id] = [rest.slice(0, 1), rest.slice(2)];
    const gone = e.operation !== 'PUT';
    if (kind === 'm') {
      // A member joined or left: look again now rather than at the next heartbeat.
      if (gone || !this.members.has(id)) this.soon();
      if (gone) this.members.delete(id);
      else this.members.set(id, e.created.getTime());
    } else if (kind === 'p') {
      const p = Number(id);
      if (gone) return void this.leases.delete(p);
      try {
        const v = e.json<{ owner: string | null; clean?: boolean }>();
        if (v.owner === null) this.soon(); // released: maybe ours to take
        this.leases.set(p, { owner: v.owner, revision: e.revision, writtenAt: e.created.getTime(), ...(v.clean === undefined ? {} : { clean: v.clean }) });
      } catch {
        this.o.logger.warn({ broker: 'nats', key: e.key }, 'nats: unreadable partition lease ignored');
      }
    }
  }

  private tick(): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.round().finally(() => {
      this.ticking = null;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    });
    return this.ticking;
  }

  private soon(): void {
    if (this.started) setImmediate(() => void this.tick());
  }

  /** Until this member holds the partitions it should (or `timeoutMs` passed): what "joined" means. */
  private async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const members = liveMembers({ now: Date.now(), me: this.me, members: this.members, memberTtlMs: this.o.leaseTtlMs });
      const missing = Array.from({ length: this.o.partitions }, (_, p) => p).filter((p) => desiredOwner(members, p) === this.me && !this.held.has(p));
      if (missing.length === 0 || Date.now() >= deadline || this.closing) return;
      await sleep(20);
    }
  }

  private async round(): Promise<void> {
    try {
      await this.o.kv.put(this.key('m', this.me), encode({ at: Date.now() }));
      this.members.set(this.me, Date.now());
      if (this.heartbeatFailing) this.o.logger.info({ broker: 'nats', prefix: this.o.prefix }, 'nats: partition heartbeat restored');
      this.heartbeatFailing = false;
    } catch (err) {
      if (!this.heartbeatFailing) this.o.logger.warn({ broker: 'nats', prefix: this.o.prefix, err: errorReason(err) }, 'nats: partition heartbeat failed; handlers pause once the leases are stale');
      this.heartbeatFailing = true;
      return;
    }
    const plan = planPartitions({
      now: Date.now(),
      me: this.me,
      partitions: this.o.partitions,
      members: this.members,
      leases: this.leases,
      owned: new Set(this.held.keys()),
      memberTtlMs: this.o.leaseTtlMs,
      leaseTtlMs: this.o.leaseTtlMs,
      ackWaitMs: this.o.ackWaitMs,
      tickMs: this.o.tickMs,
    });
    await Promise.all(plan.renew.map((p) => this.renew(p)));
    for (const p of plan.release) if (!this.busy.has(p)) void this.release(p);
    for (const a of plan.acquire) if (!this.busy.has(a.partition)) void this.acquire(a);
    const releasing = new Set(plan.release);
    for (const [p, h] of this.held) if (h.phase === 'waiting' && Date.now() >= h.startAt && !this.busy.has(p) && !releasing.has(p)) void this.begin(p, h);
  }

  private serially<T>(h: Held, write: () => Promise<T>): Promise<T> {
    const next = h.writes.then(write, write);
    h.writes = next.catch(() => undefined);
    return next;
  }

  private async renew(p: number): Promise<void> {
    const h = this.held.get(p);
    if (!h) return;
    try {
      await this.serially(h, async () => {
        if (this.held.get(p) !== h) return;
        // Freshness counts from when the renewal was sent, not when its answer came: the server
        // stamps the lease in between, and the others count its expiry from that stamp.
        const sentAt = Date.now();
        h.revision = await this.o.kv.update(this.key('p', p), encode({ owner: this.me }), h.revision);
        h.lastRenewOk = sentAt;
      });
    } catch (err) {
      if (!isConflict(err)) return; // broker unreachable: the lease goes stale and handlers pause
      this.o.logger.warn({ broker: 'nats', prefix: this.o.prefix, partition: p }, 'nats: partition lease taken over by another member; stopping it here');
      this.trace(p, 'lost');
      this.held.delete(p);
      if (h.phase === 'running') await this.o.host.stop(p).catch(() => undefined);
    }
  }

  private async acquire(a: Acquire): Promise<void> {
    const p = a.partition;
    this.busy.add(p);
    let h: Held | undefined;
    try {
      const value = encode({ owner: this.me });
      const sentAt = Date.now();
      const revision = a.revision === null ? await this.o.kv.create(this.key('p', p), value) : await this.o.kv.update(this.key('p', p), value, a.revision);
      h = { revision, lastRenewOk: sentAt, phase: 'waiting', cleanStart: a.startAt === 0, writes: Promise.resolve(), startAt: a.startAt, startFailures: 0, complainedAt: 0 };
      this.held.set(p, h);
      this.trace(p, 'acquire', { startAt: a.startAt });
      if (a.startAt > Date.now()) {
        this.o.logger.info({ broker: 'nats', prefix: this.o.prefix, partition: p, waitMs: a.startAt - Date.now() }, 'nats: took over a partition from a member that stopped; waiting for its unacked messages to come back first');
        // The round that comes after startAt starts it (begin); wake one up then.
        setTimeout(() => this.soon(), a.startAt - Date.now()).unref();
      }
    } catch (err) {
      if (isConflict(err)) await this.refreshLease(p); // another member was faster, or our view is stale
      else this.o.logger.warn({ broker: 'nats', prefix: this.o.prefix, partition: p, err: errorReason(err) }, 'nats: could not take a partition lease; trying again');
    } finally {
      this.busy.delete(p);
    }
    if (h && h.startAt <= Date.now()) await this.begin(p, h);
  }

  /** Reads a partition's lease from the bucket, in case the watcher missed a write (e.g. across a broker restart). */
  private async refreshLease(p: number): Promise<void> {
    try {
      const e = await this.o.kv.get(this.key('p', p));
      if (e && e.operation === 'PUT') {
        const v = e.json<{ owner: string | null; clean?: boolean }>();
        const known = this.leases.get(p);
        if (!known || known.revision < e.revision) this.leases.set(p, { owner: v.owner, revision: e.revision, writtenAt: e.created.getTime(), ...(v.clean === undefined ? {} : { clean: v.clean }) });
      }
    } catch {
      // the next round looks again
    }
  }

  /**
   * Starts pulling a partition this member holds. If that fails (the broker went away after
   * the lease was taken), it stays held and 'waiting' and the rounds try again with backoff,
   * saying so, for as long as the lease is ours: a held partition never goes quiet.
   */
  private async begin(p: number, h: Held): Promise<void> {
    if (this.busy.has(p) || this.held.get(p) !== h || h.phase !== 'waiting' || this.closing) return;
    this.busy.add(p);
    try {
      await this.o.host.start(p);
      if (this.held.get(p) !== h || this.closing) {
        // Lost or closing while it started: stop the worker again, nobody else will.
        await this.o.host.stop(p).catch(() => undefined);
        return;
      }
      h.phase = 'running';
      this.trace(p, 'start');
      if (h.startFailures > 0) this.o.logger.info({ broker: 'nats', prefix: this.o.prefix, partition: p, attempts: h.startFailures + 1 }, 'nats: partition started after failed attempts; consuming again');
    } catch (err) {
      h.startFailures += 1;
      const retryInMs = Math.min(MAX_START_BACKOFF_MS, 250 * 2 ** Math.min(h.startFailures - 1, 10));
      h.startAt = Date.now() + retryInMs;
      setTimeout(() => this.soon(), retryInMs).unref();
      if (h.startFailures === 1 || Date.now() - h.complainedAt >= COMPLAIN_EVERY_MS) {
        h.complainedAt = Date.now();
        this.o.logger.warn({ broker: 'nats', prefix: this.o.prefix, partition: p, attempt: h.startFailures, retryInMs, err: errorReason(err) }, 'nats: holding a partition lease but could not start pulling it; retrying');
      }
    } finally {
      this.busy.delete(p);
    }
  }

  private async release(p: number): Promise<void> {
    const h = this.held.get(p);
    if (!h) return;
    this.busy.add(p);
    try {
      const was = h.phase;
      h.phase = 'stopping';
      const { clean } = was === 'running' ? await this.o.host.stop(p) : { clean: h.cleanStart };
      try {
        await this.serially(h, () => this.o.kv.update(this.key('p', p), encode({ owner: null, clean }), h.revision));
        this.trace(p, 'release', { clean });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      this.held.delete(p);
    } catch (err) {
      // Stopped here but the release was not written: the lease expires by itself.
      this.held.delete(p);
      this.o.logger.warn({ broker: 'nats', prefix: this.o.prefix, partition: p, err: errorReason(err) }, 'nats: could not record a partition release; it expires instead');
    } finally {
      this.busy.delete(p);
    }
  }

  /** Releases every partition (each one drained first) and leaves the group. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    while (this.busy.size > 0) await sleep(20);
    await Promise.all([...this.held.keys()].map((p) => this.release(p)));
    await this.o.kv.delete(this.key('m', this.me)).catch(() => undefined);
    this.watcher?.stop();
  }
}
