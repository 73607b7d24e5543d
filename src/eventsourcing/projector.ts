import { compareGlobalPositions, createWakeup, globalPositionOf, lastGlobalPosition, loadCheckpointStatement, LOG_START, readAfterCheckpointStatement, readAll, runStatements, saveCheckpointStatement, type Db, type GlobalPosition, type Queryable, type QueryResult, type Statement } from '../store/index.js';
import { applyProjection, type Projection } from './projection.js';
import { noUpcasters, type Upcasters } from './upcasters.js';

export interface ProjectorOptions {
  /** Messages read per transaction (default 500). */
  readonly batchSize?: number;
  /** How long to sleep when caught up, unless woken by `notify()` (default 500 ms). */
  readonly pollMs?: number;
  readonly upcasters?: Upcasters;
  /**
   * After a wake-up, wait this long before the batch (default 0), so that the commits of a
   * busy moment share one batch — one transaction — instead of one each: the view lags by
   * up to this much more. A poll that finds work does not wait.
   */
  readonly gatherMs?: number;
  /** Called when a batch fails; the projector waits `pollMs` and tries the same batch again. */
  readonly onError?: (error: unknown) => void;
}

export interface ProjectorStats {
  readonly batches: number;
  readonly messages: number;
  readonly position: GlobalPosition;
  readonly errors: number;
}

export interface Projector {
  /** Wakes the projector now (call after a commit that appended messages). */
  notify(): void;
  /**
   * Resolves when everything committed before the call has been projected. (Messages of
   * a transaction that commits later with a lower id than an older open one wait for
   * that one: `readAll` reads finished transactions only.)
   */
  catchUp(): Promise<void>;
  stats(): ProjectorStats;
  /** Stops after the batch in flight; resolves when it has. */
  stop(): Promise<void>;
}

/** Serialises the batches of one projection across processes (two projectors never interleave). */
export async function lockProjection(tx: Queryable, name: string): Promise<void> {
  const s = lockProjectionStatement(name);
  await tx.query(s.sql, s.params);
}

/** `lockProjection` as a statement, to go with others in one round trip. */
function lockProjectionStatement(name: string): Statement {
  return { sql: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 11))', params: [`ordo.projection:${name}`] };
}

/**
 * Projects one batch after the projection's checkpoint: reads in global order, applies
 * the messages it handles and moves the checkpoint, all in one transaction, so a crash
 * repeats nothing and skips nothing. Returns how many messages were read.
 */
export async function projectBatch(db: Db, projection: Projection, options: Pick<ProjectorOptions, 'batchSize' | 'upcasters'> = {}): Promise<{ read: number; position: GlobalPosition }> {
  const upcasters = options.upcasters ?? noUpcasters;
  return db.transaction(async (tx) => {
    // The lock, then the checkpoint and the messages after it, in one round trip (with BEGIN):
    // statements of their own, so read after the lock is held (each statement sees what
    // committed before it started).
    const checkpoint = loadCheckpointStatement(projection.name);
    const after = readAfterCheckpointStatement(projection.name, options.batchSize ?? 500);
    const [, loaded, read] = await runStatements(tx, [lockProjectionStatement(projection.name), checkpoint.statement, after.statement]);
    const from = checkpoint.read(loaded as QueryResult<Record<string, unknown>>);
    const batch = after.read(read as QueryResult<Record<string, unknown>>);
    const last = batch.at(-1);
    if (!last) return { read: 0, position: from };
    await applyProjection(projection, batch.map((m) => upcasters.upcast(m)), tx);
    const position = globalPositionOf(last);
    // The checkpoint goes with the COMMIT, in one round trip where the database allows.
    await runStatements(tx, [saveCheckpointStatement(projection.name, position)], { commit: true });
    return { read: batch.length, position };
  });
}

/** Runs batches until caught up, then sleeps until `pollMs` passes or `notify()` is called. */
export function startProjector(db: Db, projection: Projection, options: ProjectorOptions = {}): Projector {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 500;
  const gatherMs = options.gatherMs ?? 0;
  if (!Number.isFinite(gatherMs) || gatherMs < 0) throw new RangeError(`gatherMs must be a number ≥ 0, got ${String(gatherMs)}`);
  const wakeup = createWakeup();
  let batches = 0;
  let messages = 0;
  let errors = 0;
  let position: GlobalPosition = LOG_START;
  let waiters: { target: GlobalPosition; resolve: () => void }[] = [];
  const settle = () => {
    const done = waiters.filter((w) => compareGlobalPositions(position, w.target) >= 0);
    waiters = waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  };

  // After a poll's sleep (nobody woke it), one read of a single message after the position
  // outside any transaction says whether there is anything to project: an idle projector's
  // poll is that round trip instead of a transaction that takes the projection's lock (three).
  // Every tenth poll runs the batch all the same, which reads the checkpoint: one moved back
  // by hand (saveCheckpoint) is seen within ten polls, as at the next wake-up.
  let lookFirst = false;
  let looked = 0;
  const nothingNew = async (): Promise<boolean> => {
    if (!lookFirst || ++looked % 10 === 0) return false;
    return (await readAll(db, position, 1)).length === 0;
  };
  const loop = async (): Promise<void> => {
    while (!wakeup.stopped) {
      try {
        if (!(await nothingNew())) for (;;) {
          // A notify from before this batch is covered by it (its commit came first).
          wakeup.clear();
          const r = await projectBatch(db, projection, { batchSize, upcasters: options.upcasters ?? noUpcasters });
          position = r.position;
          if (r.read > 0) {
            batches += 1;
            messages += r.read;
          }
          if (r.read < batchSize || wakeup.stopped) break;
        }
        settle();
      } catch (err) {
        errors += 1;
        options.onError?.(err);
      }
      const woken = await wakeup.sleep(waiters.length > 0 ? Math.min(pollMs, 20) : pollMs);
      lookFirst = !woken;
      // Not wakeable: later notifies are kept, and the batch (which clears them) covers their commits.
      if (woken && gatherMs > 0) await wakeup.sleep(gatherMs, { wakeable: false });
    }
    for (const w of waiters) w.resolve();
    waiters = [];
  };
  const running = loop();

  const notify = () => wakeup.notify();
  return {
    notify,
    catchUp: async () => {
      const target = await lastGlobalPosition(db);
      if (wakeup.stopped) return;
      await new Promise<void>((resolve) => {
        waiters.push({ target, resolve });
        notify();
      });
    },
    stats: () => ({ batches, messages, position, errors }),
    stop: async () => {
      wakeup.stop();
      await running;
    },
  };
}
