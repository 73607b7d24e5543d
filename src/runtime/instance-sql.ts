import type { Queryable } from '../store/index.js';
import type { InstanceRow, WorkingInstance } from './working-instance.js';

const INSTANCE_COLUMNS = 'id, machine_id, machine_version, status, snapshot, pending, revision, stream_version';

/**
 * Locks the instances for this transaction, in id order so that concurrent batches
 * never wait on each other in a cycle. `skipLocked`: take only the free ones (timer
 * claims shared by several engine processes).
 */
export async function lockInstances(tx: Queryable, ids: readonly string[], skipLocked = false): Promise<Map<string, InstanceRow>> {
  const out = new Map<string, InstanceRow>();
  if (ids.length === 0) return out;
  const r = await tx.query<InstanceRow>(
    `SELECT ${INSTANCE_COLUMNS}, extract(epoch FROM now() - created_at)::float8 AS age_seconds
       FROM ordo_saga_instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
    [[...new Set(ids)].sort()],
  );
  for (const row of r.rows) {
    out.set(row.id, { ...row, machine_version: Number(row.machine_version), revision: Number(row.revision), stream_version: Number(row.stream_version), age_seconds: Number(row.age_seconds ?? 0) });
  }
  return out;
}

export async function readInstance(q: Queryable, id: string): Promise<InstanceRow | undefined> {
  const r = await q.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM ordo_saga_instances WHERE id = $1`, [id]);
  const row = r.rows[0];
  return row ? { ...row, machine_version: Number(row.machine_version), revision: Number(row.revision), stream_version: Number(row.stream_version) } : undefined;
}

/** Retry history and new alerts (rare: per row). Open alerts are resolved before, in `writeTimersAndAlerts`. */
export async function writeAttemptsAndAlerts(tx: Queryable, w: WorkingInstance): Promise<void> {
  for (const a of w.attempts) {
    await tx.query(
      `INSERT INTO ordo_command_attempts (saga_id, step, compensation, seq, attempt, retryable, error, retry_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT DO NOTHING`,
      [w.id, a.step, a.compensation, a.seq, a.attempt, a.retryable, a.error, a.retryAt === null ? null : String(Math.round(a.retryAt))],
    );
  }
  for (const a of w.alerts) {
    await tx.query('INSERT INTO ordo_saga_alerts (saga_id, kind, detail) VALUES ($1, $2, $3::text::jsonb)', [w.id, a.kind, JSON.stringify(a.detail)]);
  }
}

export interface DeadLetterInput {
  readonly messageId: string;
  readonly sagaId: string | null;
  readonly message: unknown;
  readonly code: string;
  readonly reason: string;
  /** `timer`: one of the engine's own timers, replayed as that timer (default `message`). */
  readonly origin?: 'message' | 'timer';
}

export async function insertDeadLetter(tx: Queryable, d: DeadLetterInput): Promise<string> {
  const r = await tx.query<{ id: string }>(
    'INSERT INTO ordo_dead_letters (message_id, saga_id, message, error_code, reason, origin) VALUES ($1, $2, $3::text::jsonb, $4, $5, $6) RETURNING id::text AS id',
    [d.messageId, d.sagaId, JSON.stringify(d.message), d.code, d.reason, d.origin ?? 'message'],
  );
  return r.rows[0]?.id ?? '';
}
