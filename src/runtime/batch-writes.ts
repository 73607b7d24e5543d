import { appendToStreams, type Queryable } from '../store/index.js';
import { RevisionConflictError } from './errors.js';
import { writeAttemptsAndAlerts } from './instance-sql.js';
import { netTimerOps, type WorkingInstance } from './working-instance.js';

/*
 * The writes of one batch, as a few set-based statements for all its instances instead
 * of a few per instance: round trips, not rows, are what a batch transaction pays for.
 * The store's own tables go through the store (appendToStreams, recordInboxMany).
 */

/** Inserts the new instances and updates the changed ones, each update guarded by the revision it was loaded at. */
export async function writeInstances(tx: Queryable, items: readonly { w: WorkingInstance; streamVersion: number }[]): Promise<void> {
  const created = items.filter((i) => !i.w.loaded);
  const changed = items.filter((i) => i.w.loaded);
  const cols = (list: typeof items) => [
    list.map((i) => i.w.id),
    list.map((i) => i.w.snapshot.state),
    list.map((i) => i.w.status),
    list.map((i) => JSON.stringify(i.w.snapshot)),
    list.map((i) => JSON.stringify(i.w.pending)),
    list.map((i) => i.w.revision),
    list.map((i) => i.streamVersion),
    list.map((i) => i.w.machineVersion),
  ];
  if (created.length > 0) {
    await tx.query(
      `INSERT INTO ordo_saga_instances (id, state, status, snapshot, pending, revision, stream_version, machine_id, machine_version)
       SELECT id, state, status, snapshot, pending, revision, stream_version, machine_id, machine_version
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]::jsonb[], $5::text[]::jsonb[], $6::integer[], $7::integer[], $8::integer[], $9::text[])
         AS v(id, state, status, snapshot, pending, revision, stream_version, machine_version, machine_id)`,
      [...cols(created), created.map((i) => i.w.machineId)],
    );
  }
  if (changed.length > 0) {
    const r = await tx.query<{ id: string }>(
      `UPDATE ordo_saga_instances AS i SET state = v.state, status = v.status, snapshot = v.snapshot, pending = v.pending, revision = v.revision, stream_version = v.stream_version,
         machine_version = v.machine_version, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]::jsonb[], $5::text[]::jsonb[], $6::integer[], $7::integer[], $8::integer[], $9::integer[])
         AS v(id, state, status, snapshot, pending, revision, stream_version, machine_version, loaded_revision)
       WHERE i.id = v.id AND i.revision = v.loaded_revision
       RETURNING i.id`,
      [...cols(changed), changed.map((i) => i.w.loaded?.revision ?? 0)],
    );
    if (r.rows.length !== changed.length) {
      const done = new Set(r.rows.map((row) => row.id));
      const lost = changed.find((i) => !done.has(i.w.id));
      throw new RevisionConflictError(lost?.w.id ?? '?', lost?.w.loaded?.revision ?? 0);
    }
  }
}

const RESOLVE_ALERTS = 'UPDATE ordo_saga_alerts SET resolved_at = now() WHERE saga_id = ANY($1::text[]) AND resolved_at IS NULL';

/**
 * Applies every instance's net timer changes (deletions first, then one upsert for all new
 * deadlines) and resolves the open alerts of instances that left the state they were raised
 * in. The alert update rides in the timer deletion's statement (a data-modifying WITH: both
 * run on the same snapshot, on different tables) — one round trip instead of two per batch.
 */
export async function writeTimersAndAlerts(tx: Queryable, ws: readonly WorkingInstance[]): Promise<void> {
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
  if (clearAll.length > 0 || clearStep.length > 0 || cancelSaga.length > 0) {
    await tx.query(
      `${resolve.length > 0 ? `WITH resolved AS (${RESOLVE_ALERTS.replace('$1', '$5')}) ` : ''}DELETE FROM ordo_saga_timers t WHERE t.saga_id = ANY($1::text[])
         OR (t.kind = 'step' AND t.saga_id = ANY($2::text[]))
         OR (t.saga_id, t.timer_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
      [clearAll, clearStep, cancelSaga, cancelTimer, ...(resolve.length > 0 ? [resolve] : [])],
    );
  } else if (resolve.length > 0) {
    await tx.query(RESOLVE_ALERTS, [resolve]);
  }
  if (set.length > 0) {
    await tx.query(
      `INSERT INTO ordo_saga_timers (saga_id, timer_id, kind, purpose, due_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
       ON CONFLICT (saga_id, timer_id) DO UPDATE SET kind = excluded.kind, purpose = excluded.purpose, due_at = excluded.due_at`,
      [set.map((s) => s.saga), set.map((s) => s.timer), set.map((s) => s.kind), set.map((s) => s.purpose), set.map((s) => s.due)],
    );
  }
}

/**
 * Writes every changed (or new) instance of a batch: its new log messages with the expected
 * stream version (one statement for all streams), its row guarded by the loaded revision,
 * its timers, alerts and retry history. Returns the instances written.
 */
export async function writeBatch(tx: Queryable, instances: readonly WorkingInstance[], streamOf: (machineId: string, sagaId: string) => string): Promise<WorkingInstance[]> {
  const dirty = instances.filter((w) => w.dirty || !w.loaded);
  const appending = dirty.filter((w) => w.log.length > 0);
  const versions = await appendToStreams(
    tx,
    appending.map((w) => ({ stream: streamOf(w.machineId, w.id), expectedVersion: w.loaded?.stream_version ?? 0, messages: w.log })),
  );
  const appended = new Map(appending.map((w, i) => [w, versions[i]?.nextExpectedVersion ?? 0]));
  await writeInstances(tx, dirty.map((w) => ({ w, streamVersion: appended.get(w) ?? w.loaded?.stream_version ?? 0 })));
  await writeTimersAndAlerts(tx, dirty);
  for (const w of dirty) await writeAttemptsAndAlerts(tx, w);
  return dirty;
}
