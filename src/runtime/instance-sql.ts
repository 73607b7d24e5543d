import { preparedStatement, type Queryable, type ReadingStatement, type Statement } from '../store/index.js';
import type { InstanceRow } from './working-instance.js';

const INSTANCE_COLUMNS = 'id, machine_id, machine_version, status, snapshot, pending, revision, stream_version';

/** Locks the instances for this transaction, in id order so that concurrent batches never wait on each other in a cycle. */
const LOCK_SQL = preparedStatement(`SELECT ${INSTANCE_COLUMNS}, extract(epoch FROM now() - created_at)::float8 AS age_seconds, xmin::text AS xmin
       FROM ordo_saga_instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`);

/** The batch's lock of its instances, as a statement (undefined when there are no ids). */
export function lockInstancesStatement(ids: readonly string[]): ReadingStatement<Map<string, InstanceRow>> | undefined {
  if (ids.length === 0) return undefined;
  return {
    statement: {
      sql: LOCK_SQL,
      params: [[...new Set(ids)].sort()],
    },
    read: (r) => {
      const out = new Map<string, InstanceRow>();
      for (const raw of r.rows) {
        const row = raw as unknown as InstanceRow;
        out.set(row.id, { ...row, machine_version: Number(row.machine_version), revision: Number(row.revision), stream_version: Number(row.stream_version), age_seconds: Number(row.age_seconds ?? 0) });
      }
      return out;
    },
  };
}

const LOCK_ONLY_SQL = preparedStatement('SELECT id FROM ordo_saga_instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE');

/** The same locks, in the same order, without reading the rows: for a batch that knows them already. */
export function lockOnlyStatement(ids: readonly string[]): Statement | undefined {
  return ids.length === 0 ? undefined : { sql: LOCK_ONLY_SQL, params: [[...new Set(ids)].sort()] };
}

export async function readInstance(q: Queryable, id: string): Promise<InstanceRow | undefined> {
  const r = await q.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM ordo_saga_instances WHERE id = $1`, [id]);
  const row = r.rows[0];
  return row ? { ...row, machine_version: Number(row.machine_version), revision: Number(row.revision), stream_version: Number(row.stream_version) } : undefined;
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
