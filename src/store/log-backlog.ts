import type { Queryable } from './db.js';

export interface LogBacklog {
  /** Log messages past the reader's checkpoint, counted up to the cap. */
  readonly messages: number;
  /** Age of the oldest of them by the database clock; 0 when there is none. */
  readonly oldestSeconds: number;
}

/**
 * What the reader `name` (an outbox relay, a projection) has not passed yet: for its lag
 * metrics. Committed messages only; counting stops at `cap` so a huge backlog stays cheap.
 */
export async function logBacklog(q: Queryable, name: string, cap = 100_000): Promise<LogBacklog> {
  const r = await q.query<{ n: number; age: number | null }>(
    `WITH c AS (
       SELECT coalesce((SELECT tx_id FROM ordo_checkpoints WHERE name = $1), '0'::xid8) AS tx_id,
              coalesce((SELECT position FROM ordo_checkpoints WHERE name = $1), 0) AS position),
     b AS (SELECT m.created_at FROM ordo_messages m, c WHERE (m.tx_id, m.position) > (c.tx_id, c.position) LIMIT $2)
     SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM b`,
    [name, cap],
  );
  const row = r.rows[0];
  return { messages: Number(row?.n ?? 0), oldestSeconds: Math.max(0, Number(row?.age ?? 0)) };
}
