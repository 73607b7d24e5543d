import type { Queryable } from '../../store/index.js';
import type { InstanceRow } from './live-orders.js';

/*
 * Which orders a monitor round reads, by index, so that a round costs what changed and a
 * bounded slice of the rest — not every order retention keeps (30 days of them by default).
 */

const INSTANCE = `id, state, machine_version AS version`;
const SETTLED = (grace: string) => `updated_at < now() - ${grace}::double precision * interval '1 millisecond'`;

/** How many orders are in flight (not final, or changed within the grace), counted by index up to `cap`. */
export async function inFlight(db: Queryable, machineId: string, graceMs: number, cap: number): Promise<number> {
  const r = await db.query<{ unfinished: number; recent: number }>(
    `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM ordo_saga_instances WHERE machine_id = $1 AND status <> 'final' LIMIT $3) a) AS unfinished,
            (SELECT count(*)::int FROM (SELECT 1 FROM ordo_saga_instances WHERE updated_at >= now() - $2::double precision * interval '1 millisecond' AND machine_id = $1 AND status = 'final' LIMIT $3) b) AS recent`,
    [machineId, graceMs, cap],
  );
  return Math.min(cap, (r.rows[0]?.unfinished ?? 0) + (r.rows[0]?.recent ?? 0));
}

/** Whether the machine has more than `max` orders (reads at most max + 1 index entries). */
export async function moreThan(db: Queryable, machineId: string, max: number): Promise<boolean> {
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ordo_saga_instances WHERE machine_id = $1 LIMIT $2) a`, [machineId, max + 1]);
  return (r.rows[0]?.n ?? 0) > max;
}

/** A place in the orders that became quiet, in the order they did: (updated_at as the server prints it, id). */
export interface QuietCursor {
  readonly at: string;
  readonly id: string;
}

export const QUIET_START: QuietCursor = { at: '-infinity', id: '' };

/**
 * Final orders that settled after `after`, oldest first, up to `limit`: each order is read
 * once as it becomes quiet (a final order does not change again). Returns the next cursor.
 */
export async function newlyQuiet(db: Queryable, machineId: string, graceMs: number, after: QuietCursor, limit: number): Promise<{ rows: InstanceRow[]; next: QuietCursor }> {
  const r = await db.query<InstanceRow & { at: string }>(
    `SELECT ${INSTANCE}, true AS settled, updated_at::text AS at FROM ordo_saga_instances
      WHERE updated_at >= $3::timestamptz AND (updated_at, id) > ($3::timestamptz, $4) AND ${SETTLED('$2')} AND machine_id = $1 AND status = 'final'
      ORDER BY updated_at, id LIMIT $5`,
    [machineId, graceMs, after.at, after.id, limit],
  );
  const last = r.rows.at(-1);
  return { rows: r.rows.map(({ at: _at, ...row }) => row), next: last ? { at: last.at, id: last.id } : after };
}

/**
 * The next `limit` quiet orders by id after `afterId`, wrapping to the start when it runs
 * out: a rolling sweep that judges every kept order again in turn, so an edit made later
 * behind the services' backs (a restore, a hand-made UPDATE) is found without a full read.
 */
export async function sweepQuiet(db: Queryable, machineId: string, graceMs: number, afterId: string, limit: number): Promise<{ rows: InstanceRow[]; next: string }> {
  const r = await db.query<InstanceRow>(
    `SELECT ${INSTANCE}, true AS settled FROM ordo_saga_instances
      WHERE id > $3 AND machine_id = $1 AND status = 'final' AND ${SETTLED('$2')}
      ORDER BY id LIMIT $4`,
    [machineId, graceMs, afterId, limit],
  );
  return { rows: r.rows, next: r.rows.length < limit ? '' : (r.rows.at(-1)?.id ?? '') };
}

/** The given orders' instances (the subjects of open alerts: judged every round until resolved). */
export async function instancesOf(db: Queryable, machineId: string, graceMs: number, ids: readonly string[]): Promise<InstanceRow[]> {
  if (ids.length === 0) return [];
  const r = await db.query<InstanceRow>(`SELECT ${INSTANCE}, ${SETTLED('$2')} AS settled FROM ordo_saga_instances WHERE id = ANY($3::text[]) AND machine_id = $1`, [machineId, graceMs, [...ids]]);
  return r.rows;
}
