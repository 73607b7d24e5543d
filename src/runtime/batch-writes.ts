import { appendToStreamsStatement, jsonArrayText, jsonbArraySql, preparedStatement, runStatements, type Queryable, type Statement } from '../store/index.js';
import { RevisionConflictError } from './errors.js';
import type { CachedInstance } from './instance-cache.js';
import { netTimerOps, type WorkingInstance } from './working-instance.js';

/*
 * The writes of one batch, as a few set-based statements for all its instances instead
 * of a few per instance: round trips, not rows, are what a batch transaction pays for.
 * The store's own tables go through the store (appendToStreams, recordInboxMany).
 */

/** The message `ordo_conflict` raises when an instance was not at the revision the batch loaded. */
const REVISION_CONFLICT = 'ordo: saga revision conflict';

/*
 * Fixed texts, marked prepared (store/prepared.ts): a server connection parses and plans each
 * once, and a batch script runs them as EXECUTE (store/script-prepared.ts).
 */
const INSERT_INSTANCES_SQL = preparedStatement(`INSERT INTO ordo_saga_instances (id, state, status, snapshot, pending, revision, stream_version, machine_id, machine_version)
       SELECT id, state, status, snapshot, pending, revision, stream_version, machine_id, machine_version
       FROM unnest($1::text[], $2::text[], $3::text[], ${jsonbArraySql('$4')}, ${jsonbArraySql('$5')}, $6::integer[], $7::integer[], $8::integer[], $9::text[])
         AS v(id, state, status, snapshot, pending, revision, stream_version, machine_version, machine_id)`);

const UPDATE_INSTANCES_SQL = preparedStatement(`WITH updated AS (
         UPDATE ordo_saga_instances AS i SET state = v.state, status = v.status, snapshot = v.snapshot, pending = v.pending, revision = v.revision, stream_version = v.stream_version,
           machine_version = v.machine_version, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], ${jsonbArraySql('$4')}, ${jsonbArraySql('$5')}, $6::integer[], $7::integer[], $8::integer[], $9::integer[], $10::text[])
           AS v(id, state, status, snapshot, pending, revision, stream_version, machine_version, loaded_revision, loaded_xmin)
         WHERE i.id = v.id AND i.revision = v.loaded_revision AND (v.loaded_xmin IS NULL OR i.xmin::text = v.loaded_xmin)
         RETURNING i.id)
       SELECT CASE WHEN count(*) = cardinality($1::text[]) THEN count(*)
         ELSE ordo_conflict('${REVISION_CONFLICT}', (SELECT json_agg(json_build_object('id', v.id, 'revision', v.r)) FROM unnest($1::text[], $9::integer[]) AS v(id, r) WHERE v.id NOT IN (SELECT id FROM updated))::text) END AS updated
       FROM updated`);

/** An instance to write: its row's new values, snapshot and pending as the JSON written. */
interface InstanceWrite {
  readonly w: WorkingInstance;
  readonly streamVersion: number;
  readonly snapshotJson: string;
  readonly pendingJson: string;
}

/**
 * Inserts of the new instances and updates of the changed ones, each update guarded by the
 * revision (and, where known, the `xmin`) it was loaded at: a lost guard raises.
 */
function instanceStatements(items: readonly InstanceWrite[]): Statement[] {
  const created = items.filter((i) => !i.w.loaded);
  const changed = items.filter((i) => i.w.loaded);
  const cols = (list: typeof items) => [
    list.map((i) => i.w.id),
    list.map((i) => i.w.snapshot.state),
    list.map((i) => i.w.status),
    jsonArrayText(list.map((i) => i.snapshotJson)),
    jsonArrayText(list.map((i) => i.pendingJson)),
    list.map((i) => i.w.revision),
    list.map((i) => i.streamVersion),
    list.map((i) => i.w.machineVersion),
  ];
  const out: Statement[] = [];
  if (created.length > 0) {
    out.push({
      sql: INSERT_INSTANCES_SQL,
      params: [...cols(created), created.map((i) => i.w.machineId)],
    });
  }
  if (changed.length > 0) {
    out.push({
      sql: UPDATE_INSTANCES_SQL,
      params: [...cols(changed), changed.map((i) => i.w.loaded?.revision ?? 0), changed.map((i) => i.w.loaded?.xmin ?? null)],
    });
  }
  return out;
}

/** The error a revision guard raised, as the runtime's own (else the error as it is). */
export function revisionConflict(err: unknown): unknown {
  const e = err as { code?: string; message?: string; detail?: string };
  if (e.code !== '40001' || e.message !== REVISION_CONFLICT || typeof e.detail !== 'string') return err;
  const [lost] = JSON.parse(e.detail) as { id: string; revision: number }[];
  return new RevisionConflictError(lost?.id ?? '?', lost?.revision ?? 0);
}

const RESOLVE_ALERTS = preparedStatement('UPDATE ordo_saga_alerts SET resolved_at = now() WHERE saga_id = ANY($1::text[]) AND resolved_at IS NULL');

// The leading `saga_id = ANY($5)` (every saga named) lets the primary key find the rows:
// an OR of the three conditions alone is a sequential scan of every saga's timers.
const deleteTimersSql = (resolving: boolean) =>
  preparedStatement(`${resolving ? `WITH resolved AS (${RESOLVE_ALERTS.replace('$1', '$6')}) ` : ''}DELETE FROM ordo_saga_timers t WHERE t.saga_id = ANY($5::text[])
         AND (t.saga_id = ANY($1::text[])
           OR (t.kind = 'step' AND t.saga_id = ANY($2::text[]))
           OR (t.saga_id, t.timer_id) IN (SELECT * FROM unnest($3::text[], $4::text[])))`);
const DELETE_TIMERS_SQL = deleteTimersSql(false);
const DELETE_TIMERS_RESOLVING_SQL = deleteTimersSql(true);

const SET_TIMERS_SQL = preparedStatement(`INSERT INTO ordo_saga_timers (saga_id, timer_id, kind, purpose, due_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
       ON CONFLICT (saga_id, timer_id) DO UPDATE SET kind = excluded.kind, purpose = excluded.purpose, due_at = excluded.due_at`);

const INSERT_ATTEMPTS_SQL = preparedStatement(`INSERT INTO ordo_command_attempts (saga_id, step, compensation, seq, attempt, retryable, error, retry_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::integer[], $5::integer[], $6::boolean[], $7::text[], $8::bigint[])
       ON CONFLICT DO NOTHING`);

const INSERT_ALERTS_SQL = preparedStatement('INSERT INTO ordo_saga_alerts (saga_id, kind, detail) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]::jsonb[])');

/**
 * Every instance's net timer changes (deletions first, then one upsert for all new
 * deadlines) and the resolution of the open alerts of instances that left the state they
 * were raised in. The alert update rides in the timer deletion's statement (a
 * data-modifying WITH: both run on the same snapshot, on different tables).
 */
export function timerAndAlertStatements(ws: readonly WorkingInstance[]): Statement[] {
  const resolve = ws.filter((w) => w.resolveAlerts).map((w) => w.id);
  const clearAll: string[] = [];
  const clearStep: string[] = [];
  const cancelSaga: string[] = [];
  const cancelTimer: string[] = [];
  const set: { saga: string; timer: string; kind: string; purpose: string; due: string }[] = [];
  for (const w of ws) {
    if (w.timerOps.length === 0) continue;
    const net = netTimerOps(w.timerOps);
    if (net.clear === 'all') clearAll.push(w.id);
    else if (net.clear === 'step') clearStep.push(w.id);
    for (const t of net.cancel) {
      cancelSaga.push(w.id);
      cancelTimer.push(t);
    }
    for (const s of net.set) set.push({ saga: w.id, timer: s.timerId, kind: s.kind, purpose: s.purpose, due: String(Math.round(s.dueAt)) });
  }
  const out: Statement[] = [];
  if (clearAll.length > 0 || clearStep.length > 0 || cancelSaga.length > 0) {
    out.push({
      sql: resolve.length > 0 ? DELETE_TIMERS_RESOLVING_SQL : DELETE_TIMERS_SQL,
      params: [clearAll, clearStep, cancelSaga, cancelTimer, [...new Set([...clearAll, ...clearStep, ...cancelSaga])], ...(resolve.length > 0 ? [resolve] : [])],
    });
  } else if (resolve.length > 0) {
    out.push({ sql: RESOLVE_ALERTS, params: [resolve] });
  }
  if (set.length > 0) {
    out.push({
      sql: SET_TIMERS_SQL,
      params: [set.map((s) => s.saga), set.map((s) => s.timer), set.map((s) => s.kind), set.map((s) => s.purpose), set.map((s) => s.due)],
    });
  }
  return out;
}

/** Retry history and new alerts of every instance, one statement each (both rare). */
export function attemptAndAlertStatements(ws: readonly WorkingInstance[]): Statement[] {
  const attempts = ws.flatMap((w) => w.attempts.map((a) => ({ w, a })));
  const alerts = ws.flatMap((w) => w.alerts.map((a) => ({ w, a })));
  const out: Statement[] = [];
  if (attempts.length > 0) {
    out.push({
      sql: INSERT_ATTEMPTS_SQL,
      params: [
        attempts.map((x) => x.w.id),
        attempts.map((x) => x.a.step),
        attempts.map((x) => x.a.compensation),
        attempts.map((x) => x.a.seq),
        attempts.map((x) => x.a.attempt),
        attempts.map((x) => x.a.retryable),
        attempts.map((x) => x.a.error),
        attempts.map((x) => (x.a.retryAt === null ? null : String(Math.round(x.a.retryAt)))),
      ],
    });
  }
  if (alerts.length > 0) {
    out.push({
      sql: INSERT_ALERTS_SQL,
      params: [alerts.map((x) => x.w.id), alerts.map((x) => x.a.kind), alerts.map((x) => JSON.stringify(x.a.detail))],
    });
  }
  return out;
}

/** The id of the writing transaction: what the rows it writes carry as `xmin`. */
const XID_SQL = preparedStatement('SELECT pg_current_xact_id()::xid::text AS xid');

export interface BatchWriteOptions {
  /** Commit the transaction in the same round trip, where the database allows. */
  readonly commit?: boolean;
  /** Statements that run first, in the same round trip: the checks of a batch that skipped its load. */
  readonly checks?: readonly Statement[];
  /** Report the written instances as they now are in the database (for InstanceCache). */
  readonly remember?: boolean;
}

export interface BatchWritten {
  readonly instances: WorkingInstance[];
  /** With `remember`: the written instances' new rows (finished ones too), for InstanceCache. */
  readonly rows: CachedInstance[];
}

/**
 * Writes every changed (or new) instance of a batch: its new log messages with the expected
 * stream version (one statement for all streams), its row guarded by the loaded revision,
 * its timers, alerts and retry history — one round trip where the database allows, which
 * with `commit` also commits the transaction (the checks are in the statements).
 */
export async function writeBatch(tx: Queryable, instances: readonly WorkingInstance[], streamOf: (machineId: string, sagaId: string) => string, options: BatchWriteOptions = {}): Promise<BatchWritten> {
  const dirty = instances.filter((w) => w.dirty || !w.loaded);
  const appending = dirty.filter((w) => w.log.length > 0);
  const append = appending.length > 0 ? appendToStreamsStatement(appending.map((w) => ({ stream: streamOf(w.machineId, w.id), expectedVersion: w.loaded?.stream_version ?? 0, messages: w.log }))) : undefined;
  // The append checks each stream is at the version expected, so each ends that many messages later.
  const writes: InstanceWrite[] = dirty.map((w) => ({ w, streamVersion: (w.loaded?.stream_version ?? 0) + w.log.length, snapshotJson: JSON.stringify(w.snapshot), pendingJson: JSON.stringify(w.pending) }));
  const checks = options.checks ?? [];
  const remember = options.remember === true && dirty.length > 0;
  const statements = [
    ...checks,
    ...(remember ? [{ sql: XID_SQL, params: [] }] : []),
    ...(append ? [append.statement] : []),
    ...instanceStatements(writes),
    ...timerAndAlertStatements(dirty),
    ...attemptAndAlertStatements(dirty),
  ];
  if (statements.length === 0) return { instances: dirty, rows: [] };
  let xid = '';
  try {
    const results = await runStatements(tx, statements, options.commit === true ? { commit: true } : undefined);
    const row = results[checks.length]?.rows[0];
    xid = typeof row?.['xid'] === 'string' ? row['xid'] : '';
  } catch (err) {
    throw revisionConflict(append ? append.translate(err) : err);
  }
  const now = Date.now();
  // Without the transaction's id there is nothing a later batch could check a copy against.
  const rows = remember && xid !== ''
    ? writes.map((x) => ({
        id: x.w.id,
        machineId: x.w.machineId,
        machineVersion: x.w.machineVersion,
        status: x.w.status,
        snapshotJson: x.snapshotJson,
        pendingJson: x.pendingJson,
        revision: x.w.revision,
        streamVersion: x.streamVersion,
        xmin: xid,
        bornAt: now - (x.w.loaded?.age_seconds ?? 0) * 1000,
      }))
    : [];
  return { instances: dirty, rows };
}
