import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from './db.js';
import { InvalidStoreInputError } from './errors.js';
import type { StructuredLogger } from './logger.js';
import { compareGlobalPositions, globalPositionOf, LOG_START, readAllNotingHeld, readOutgoingNotingHeld, type GlobalPosition } from './read-all.js';
import { claimLease, releaseLease, saveLeasedCheckpoint } from './relay-lease.js';
import { LOG_CHANNEL } from './store-migrations.js';
import type { StoredMessage } from './stored-message.js';
import { createWakeup } from './wakeup.js';

/**
 * The envelope the relay hands to the transport. It has the shape of transport's
 * `Message` (store/ may not import transport/, DESIGN.md §2), so any `Transport`
 * can be passed as the relay's target.
 */
export interface RelayMessage {
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** What the relay needs from a transport: `publish` resolving once the broker has the messages. */
export interface RelayTarget {
  publish(messages: readonly RelayMessage[]): Promise<void>;
}

export interface OutboxRelayOptions {
  readonly db: Db;
  readonly transport: RelayTarget;
  /** Checkpoint name. Relays of one name (e.g. one per process) share it: one publishes, the others stand by. */
  readonly name: string;
  /** Which log messages go out and as what; default `defaultRelayMessage`. `null` = not published. */
  readonly toMessages?: (m: StoredMessage) => RelayMessage | null;
  /**
   * `toMessages` publishes only messages whose metadata has a `topic`, so the relay reads only
   * those from the log (the rest never leaves the database). Default: true with the default
   * mapping, false with one of your own (which may publish anything).
   */
  readonly topicsOnly?: boolean;
  /** Log messages read per round (default 100). */
  readonly batchSize?: number;
  /** How often to look for new messages when not woken by `notify()` (default 200 ms; at most every 1 s while it listens for commits, which wake it). */
  readonly pollMs?: number;
  /**
   * How long a published batch may wait for its checkpoint save (default 100 ms): the rounds of
   * a burst share one save. A crash republishes at most what was published meanwhile; the
   * broker's dedup window and the consumers' inbox absorb it (at-least-once, as ever).
   * Stopping saves at once.
   */
  readonly checkpointEveryMs?: number;
  /** Retry delays after a failure: doubling from `initialMs` up to `maxMs` (default 100 ms … 10 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How long the publishing relay's claim lasts without renewal (default 15 s): a standby takes over after a crash. */
  readonly leaseMs?: number;
  readonly log?: StructuredLogger;
  /** Listen for the log's commit notifications where the database can (default true). */
  readonly wakeOnCommit?: boolean;
}

export interface OutboxRelay {
  /** Look for new messages now instead of waiting for the next poll (or for a commit to wake it). */
  notify(): void;
  /**
   * Call after committing an append through the relay's own Db: wakes it, unless that Db
   * woke it already (it listens on a Db that wakes its own listeners, `Db.wakesOwnListeners`),
   * so one commit costs one read, not two.
   */
  committed(): void;
  /** Finishes the round in progress (a publish under way is awaited), then stops; nothing is lost. */
  stop(): Promise<void>;
  /** Resolves true once it listens for the log's commits (false: it only polls and takes `notify()`). */
  readonly listening: Promise<boolean>;
  /** Counters, for tests and metrics. */
  readonly stats: Readonly<OutboxRelayStats>;
}

export interface OutboxRelayStats {
  /** Everything up to here has been published. */
  position: GlobalPosition;
  /** The checkpoint saved: where a restart resumes (at most `checkpointEveryMs` behind `position` while it runs). */
  saved: GlobalPosition;
  /** Whether this relay holds the lease (publishes) or stands by. */
  leader: boolean;
  published: number;
  failures: number;
}

/** How often a relay that is woken by commits still looks, in case a notification was lost. */
const LISTENING_POLL_MS = 1_000;

/**
 * The default mapping: a log message is published when its metadata has a `topic`
 * (string). `metadata.key` (string) is the ordering key, defaulting to the stream name;
 * every other scalar metadata entry becomes a string header (causationId, correlationId,
 * traceparent, and the saga engine's step, compensation, attempt, machineVersion…:
 * a service needs `attempt` to answer a StepFailed for the right send). The log message
 * id is the transport message id (broker + inbox dedup).
 */
export function defaultRelayMessage(m: StoredMessage): RelayMessage | null {
  const { topic, key, ...rest } = m.metadata;
  if (typeof topic !== 'string' || topic.length === 0) return null;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
  return { id: m.id, topic, key: typeof key === 'string' && key.length > 0 ? key : m.stream, type: m.type, payload: m.data, headers };
}

const stderrLog: StructuredLogger = {
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`ordo outbox relay: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`ordo outbox relay: ${msg} ${JSON.stringify(obj)}\n`),
};

/**
 * Forwards the log to the transport in global order (so in order per stream), from its
 * checkpoint, saving the checkpoint only after `publish` resolved: at-least-once, and
 * after a crash it resumes where the last confirmed batch ended. A failing publish is
 * retried with capped exponential backoff, the same batch again, so nothing is skipped
 * or reordered.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, transport, name } = options;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidStoreInputError('name', 'must be a non-empty string');
  const batchSize = positiveInt('batchSize', options.batchSize ?? 100);
  const pollMs = positiveInt('pollMs', options.pollMs ?? 200);
  const initialMs = positiveInt('backoff.initialMs', options.backoff?.initialMs ?? 100);
  const maxMs = Math.max(initialMs, positiveInt('backoff.maxMs', options.backoff?.maxMs ?? 10_000));
  const map = options.toMessages ?? defaultRelayMessage;
  const topicsOnly = options.topicsOnly ?? options.toMessages === undefined;
  const read = (after: GlobalPosition): Promise<{ messages: StoredMessage[]; heldBack: boolean; readTo?: GlobalPosition | undefined }> =>
    topicsOnly ? readOutgoingNotingHeld(db, after, batchSize) : readAllNotingHeld(db, after, batchSize);
  const log = options.log ?? stderrLog;
  const leaseMs = positiveInt('leaseMs', options.leaseMs ?? 15_000);
  const checkpointMs = positiveInt('checkpointEveryMs', options.checkpointEveryMs ?? 100);
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  const stats: OutboxRelayStats = { position: LOG_START, saved: LOG_START, leader: false, published: 0, failures: 0 };
  const wakeup = createWakeup();
  const delay = (attempt: number): number => Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));

  /** Runs `step` until it succeeds or the relay stops; returns false when stopped first. */
  async function retrying(what: string, step: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; !wakeup.stopped; attempt++) {
      try {
        await step();
        if (attempt > 1) log.info({ relay: name, attempts: attempt }, `${what} succeeded again`);
        return true;
      } catch (err) {
        stats.failures++;
        const retryInMs = delay(attempt);
        log.warn({ relay: name, attempt, retryInMs, err: describe(err) }, `${what} failed, retrying`);
        await wakeup.sleep(retryInMs, { wakeable: false });
      }
    }
    return false;
  }

  let leaseValidUntil = 0; // local clock, conservative: measured from before the claim or save
  let lastSaveAt = 0;
  const unsaved = (): boolean => compareGlobalPositions(stats.position, stats.saved) > 0;
  const renewalDue = (): boolean => Date.now() > leaseValidUntil - leaseMs / 3;
  const saveDue = (): boolean => stats.leader && unsaved() && (Date.now() - lastSaveAt >= checkpointMs || renewalDue());

  /** Saves what was published as the checkpoint, renewing the lease. 'lost': another relay took over; 'stopped': stopped first. */
  async function saveNow(): Promise<'saved' | 'lost' | 'stopped'> {
    const at = stats.position;
    const t0 = Date.now();
    let saved = false;
    const save = async (): Promise<void> => void (saved = await saveLeasedCheckpoint(db, name, owner, leaseMs, at));
    // One attempt even when stopping: a batch published but not recorded is published again after a restart.
    const attempted = await save().then(
      () => true,
      () => retrying('saving the checkpoint (database unreachable?)', save),
    );
    if (!attempted) return 'stopped';
    lastSaveAt = t0;
    if (!saved) {
      // Our lease ran out (a long publish) and another relay took over: it republishes from its checkpoint.
      leaseValidUntil = 0;
      return 'lost';
    }
    stats.saved = at;
    leaseValidUntil = t0 + leaseMs;
    return 'saved';
  }

  /**
   * Sleeps until a commit wakes it or the poll is due, saving the checkpoint on the way when
   * its time comes (so a burst of rounds costs one save, not one each). False: stop.
   */
  async function idle(): Promise<boolean> {
    // Woken by every appending commit while listening: then the poll only covers a lost notification.
    const pollUntil = Date.now() + (listeningNow ? Math.max(pollMs, LISTENING_POLL_MS) : pollMs);
    while (!wakeup.stopped) {
      const untilSave = stats.leader && unsaved() ? Math.max(0, lastSaveAt + checkpointMs - Date.now()) : Infinity;
      const untilPoll = pollUntil - Date.now();
      if (untilPoll <= 0) return true;
      if (untilSave < untilPoll) {
        if (untilSave > 0 && (await wakeup.sleep(untilSave))) return true;
        if (wakeup.stopped) return false;
        const r = await saveNow();
        if (r !== 'saved') return r === 'lost';
        continue;
      }
      await wakeup.sleep(untilPoll);
      return !wakeup.stopped;
    }
    return false;
  }

  /**
   * A committed message is held back by an older transaction still running, which may end
   * without appending (no wake-up comes): look again after 5, 10, 20 … ms (up to pollMs), or
   * at the next commit. False: stop.
   */
  let heldMs = 0;
  async function waitHeld(): Promise<boolean> {
    await wakeup.sleep(heldMs);
    return !wakeup.stopped;
  }

  async function run(): Promise<void> {
    while (!wakeup.stopped) {
      if (saveDue()) {
        const r = await saveNow();
        if (r === 'stopped') return;
      }
      // Renew well before the lease runs out, so a standby never sees it expire while this one works.
      if (renewalDue()) {
        const t0 = Date.now();
        let claimed: GlobalPosition | null = null;
        if (!(await retrying('claiming the relay lease (database unreachable?)', async () => void (claimed = await claimLease(db, name, owner, leaseMs))))) return;
        if (claimed === null) {
          if (stats.leader) log.warn({ relay: name }, 'another relay took over the lease; standing by');
          stats.leader = false;
          // Commits do not free the lease: a standby looks every pollMs, not at every commit.
          await wakeup.sleep(pollMs, { wakeable: false });
          continue;
        }
        if (!stats.leader) log.info({ relay: name, owner }, 'holding the lease; publishing');
        stats.leader = true;
        stats.position = claimed;
        stats.saved = claimed;
        leaseValidUntil = t0 + leaseMs;
      }
      // A commit that woke it before this read is seen by the read: only later ones should wake the next sleep.
      wakeup.clear();
      let batch: StoredMessage[] = [];
      let heldBack = false;
      let readTo: GlobalPosition | undefined;
      if (!(await retrying('reading the message log (database unreachable?)', async () => void ({ messages: batch, heldBack, readTo } = await read(stats.position))))) return;
      heldMs = heldBack ? Math.min(pollMs, heldMs === 0 ? 5 : heldMs * 2) : 0;
      const last = batch[batch.length - 1];
      if (!last) {
        // Only messages without a topic since the last look: nothing to publish, but past them.
        if (readTo) stats.position = readTo;
        if (!(await (heldBack ? waitHeld() : idle()))) return;
        continue;
      }
      let out: RelayMessage[] = [];
      if (!(await retrying('mapping log messages (toMessages threw)', () => Promise.resolve(void (out = batch.map(map).filter((m) => m !== null)))))) return;
      if (out.length > 0 && !(await retrying('publishing to the transport (transport unreachable?)', () => transport.publish(out)))) return;
      stats.published += out.length;
      stats.position = readTo ?? globalPositionOf(last);
      // A short batch was all there was when it read: read again when a commit says so (a full one: at once).
      if (batch.length < batchSize && !(await (heldBack ? waitHeld() : idle()))) return;
    }
  }

  async function runAndRelease(): Promise<void> {
    try {
      await run();
      // What was published since the last save is recorded on the way out (one attempt when stopping).
      if (stats.leader && unsaved()) await saveNow();
    } finally {
      if (stats.leader) {
        stats.leader = false;
        await releaseLease(db, name, owner).catch(() => undefined); // it expires by itself otherwise
      }
    }
  }

  const notifyNow = (): void => wakeup.notify();
  let listeningNow = false;
  // Woken by every commit that appends to the log, in any process (migration 8); the poll stays as the fallback.
  let unlisten: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
  if (options.wakeOnCommit !== false && db.listen) {
    unlisten = db.listen(LOG_CHANNEL, () => notifyNow()).then(
      (u) => {
        listeningNow = true;
        return u;
      },
      (err: unknown) => {
        log.warn({ relay: name, err: describe(err) }, 'cannot listen for commits; polling only');
        return undefined;
      },
    );
  }

  const running = runAndRelease().catch((err: unknown) => log.error({ relay: name, err: describe(err) }, 'stopped by an unexpected error'));

  return {
    notify: notifyNow,
    committed: () => {
      if (!(listeningNow && db.wakesOwnListeners === true)) notifyNow();
    },
    async stop() {
      wakeup.stop();
      await running;
      await (await unlisten)?.().catch(() => undefined);
    },
    listening: unlisten.then((u) => u !== undefined),
    stats,
  };
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidStoreInputError(field, `must be a positive integer, got ${String(v)}`);
  return v;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
