import type { Queryable } from '../store/index.js';

/** How often to keep a snapshot, and how to recognise one that still fits the state's shape. */
export interface SnapshotPolicy<S> {
  /** Save one whenever the stream's version crosses a multiple of this (1: after every command, inline). */
  readonly every: number;
  /** Names the state's shape; change it when the state or the decider changes, and old snapshots are ignored. */
  readonly schema: string;
  readonly toJSON?: (state: S) => unknown;
  readonly fromJSON?: (json: unknown) => S;
}

export interface StoredSnapshot<S> {
  readonly version: number;
  readonly state: S;
}

export async function loadSnapshot<S>(q: Queryable, stream: string, policy: SnapshotPolicy<S>): Promise<StoredSnapshot<S> | undefined> {
  const r = await q.query<{ version: number; state: unknown }>('SELECT version, state FROM ordo_snapshots WHERE stream = $1 AND state_schema = $2', [stream, policy.schema]);
  const row = r.rows[0];
  if (!row) return undefined;
  return { version: Number(row.version), state: policy.fromJSON ? policy.fromJSON(row.state) : (row.state as S) };
}

/** Keeps the newest snapshot per stream (an older one never overwrites a newer one). */
export async function saveSnapshot<S>(tx: Queryable, stream: string, version: number, state: S, policy: SnapshotPolicy<S>): Promise<void> {
  const json = JSON.stringify(policy.toJSON ? policy.toJSON(state) : state);
  await tx.query(
    `INSERT INTO ordo_snapshots (stream, version, state_schema, state) VALUES ($1, $2, $3, $4::text::jsonb)
     ON CONFLICT (stream) DO UPDATE SET version = excluded.version, state_schema = excluded.state_schema, state = excluded.state, created_at = now()
     WHERE ordo_snapshots.version < excluded.version OR ordo_snapshots.state_schema <> excluded.state_schema`,
    [stream, version, policy.schema, json],
  );
}

/** Whether going from `before` to `after` crosses a snapshot boundary. */
export function snapshotDue(policy: Pick<SnapshotPolicy<unknown>, 'every'>, before: number, after: number): boolean {
  return Math.floor(after / policy.every) > Math.floor(before / policy.every);
}
