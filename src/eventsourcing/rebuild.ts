import { compareGlobalPositions, globalPositionOf, loadCheckpoint, LOG_START, readAll, readAllVisible, saveCheckpoint, type Db, type GlobalPosition, type Queryable, type StoredMessage } from '../store/index.js';
import { applyProjection, type Projection } from './projection.js';
import { lockProjection } from './projector.js';
import { noUpcasters, type Upcasters } from './upcasters.js';

export interface RebuildProgress {
  readonly phase: 'replay' | 'catch-up' | 'swapped';
  readonly messages: number;
  /** Messages in the log when the rebuild started (an estimate: the log keeps growing). */
  readonly total: number;
}

export interface RebuildOptions {
  /**
   * How the live table is kept up to date: 'async' (a projector with a checkpoint) or
   * 'inline' (the command handler, in the append's transaction). It decides how the final
   * catch-up closes the gap; see README.md. 'auto' (the default): async when the
   * projection has a checkpoint, inline otherwise.
   */
  readonly mode?: 'async' | 'inline' | 'auto';
  readonly batchSize?: number;
  readonly upcasters?: Upcasters;
  readonly onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildResult {
  readonly projection: string;
  readonly table: string;
  /** The table the rebuild was written to before the swap (`<table>_rebuild_<n>`). */
  readonly builtAs: string;
  readonly messages: number;
  readonly position: GlobalPosition;
  readonly mode: 'async' | 'inline';
}

type Reader = (q: Queryable, after: GlobalPosition, limit: number) => Promise<StoredMessage[]>;

async function drain(q: Queryable, read: Reader, projection: Projection, table: string, from: GlobalPosition, batchSize: number, upcasters: Upcasters, progress: (n: number) => void): Promise<GlobalPosition> {
  let at = from;
  for (;;) {
    const batch = await read(q, at, batchSize);
    const last = batch.at(-1);
    if (!last) return at;
    await applyProjection(projection, batch.map((m) => upcasters.upcast(m)), q, table);
    at = globalPositionOf(last);
    progress(batch.length);
    if (batch.length < batchSize) return at;
  }
}

/**
 * Replays the whole log into a fresh table (`<table>_rebuild_<n>`) while readers keep
 * using the live one, then, in one transaction: blocks writers of the live table (readers
 * go on), projects what arrived meanwhile, drops the live table, renames the fresh one
 * (and its indexes) into its place and, for an async projection, moves its checkpoint.
 * Readers wait only for that short transaction, never see a missing or half-built table.
 */
export async function rebuildProjection(db: Db, projection: Projection, options: RebuildOptions = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 1000;
  const upcasters = options.upcasters ?? noUpcasters;
  const live = projection.table;
  await db.transaction(async (tx) => {
    await lockProjection(tx, projection.name);
    await projection.setup(tx, live);
  });
  const n = await db.transaction(async (tx) => {
    const r = await tx.query<{ rebuilds: number }>(
      `INSERT INTO ordo_projections (name, rebuilds) VALUES ($1, 1)
       ON CONFLICT (name) DO UPDATE SET rebuilds = ordo_projections.rebuilds + 1 RETURNING rebuilds`,
      [projection.name],
    );
    return Number(r.rows[0]?.rebuilds ?? 1);
  });
  const fresh = `${live}_rebuild_${n}`;
  await db.transaction(async (tx) => {
    await tx.query(`DROP TABLE IF EXISTS ${fresh}`);
    await projection.setup(tx, fresh);
  });
  const total = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM ordo_messages')).rows[0]?.n ?? 0);
  let done = 0;
  const report = (phase: RebuildProgress['phase']) => (k: number) => {
    done += k;
    options.onProgress?.({ phase, messages: done, total });
  };

  // Replay in many short transactions: readers and writers of the live table are untouched.
  let at = LOG_START;
  for (;;) {
    const before = at;
    at = await db.transaction((tx) => drain(tx, readAll, projection, fresh, before, batchSize, upcasters, report('replay')));
    if (at === before) break;
  }

  const { end: position, mode } = await db.transaction(async (tx) => {
    await lockProjection(tx, projection.name);
    // EXCLUSIVE blocks INSERT/UPDATE/DELETE (inline writers) but not SELECT.
    await tx.query(`LOCK TABLE ${live} IN EXCLUSIVE MODE`);
    const mode = options.mode === 'async' || options.mode === 'inline' ? options.mode : compareGlobalPositions(await loadCheckpoint(tx, projection.name), LOG_START) === 0 ? 'inline' : 'async';
    // Inline writers are locked out above, so the transactions still open then write the new table themselves after the swap.
    const reader: Reader = mode === 'inline' ? readAllVisible : readAll;
    const end = await drain(tx, reader, projection, fresh, at, batchSize, upcasters, report('catch-up'));
    const indexes = await tx.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1', [fresh]);
    await tx.query(`DROP TABLE ${live}`);
    await tx.query(`ALTER TABLE ${fresh} RENAME TO ${live}`);
    for (const { indexname } of indexes.rows) {
      if (indexname.startsWith(fresh)) await tx.query(`ALTER INDEX ${indexname} RENAME TO ${live}${indexname.slice(fresh.length)}`);
    }
    if (mode === 'async') await saveCheckpoint(tx, projection.name, end);
    await tx.query('UPDATE ordo_projections SET last_rebuilt_at = now(), last_rebuild_messages = $2 WHERE name = $1', [projection.name, done]);
    return { end, mode };
  });
  options.onProgress?.({ phase: 'swapped', messages: done, total });
  return { projection: projection.name, table: live, builtAs: fresh, messages: done, position, mode };
}

