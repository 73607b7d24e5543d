import type { Migration, Queryable } from '../store/index.js';

/** The scope under which the reconciler's tables are recorded in `ordo_migrations`. */
export const RECONCILER_MIGRATION_SCOPE = 'reconciler';

export const reconcilerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'reconciliations',
    sql: `
      -- Every correction the reconciler applied or tried, and every check that failed.
      CREATE TABLE IF NOT EXISTS ordo_reconciliations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        round_id text NOT NULL,
        check_name text NOT NULL,
        -- the discrepancy's stable identity (e.g. 'canceled-holds-reservation:o-1'); null for a failed check
        key text,
        subject text,
        found jsonb NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('corrected', 'failed', 'check-failed')),
        -- 1 for the first correction of this key, then 2, 3, ...
        attempt integer NOT NULL DEFAULT 1,
        result jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS ordo_reconciliations_key ON ordo_reconciliations (key, created_at);
      CREATE INDEX IF NOT EXISTS ordo_reconciliations_check ON ordo_reconciliations (check_name, id);
      CREATE INDEX IF NOT EXISTS ordo_reconciliations_subject ON ordo_reconciliations (subject, id);

      -- One round at a time across processes: the holder and until when.
      CREATE TABLE IF NOT EXISTS ordo_reconciler_lease (
        name text PRIMARY KEY,
        owner text,
        lease_until timestamptz
      );
    `,
  },
];

export type ReconciliationOutcome = 'corrected' | 'failed' | 'check-failed';

export interface ReconciliationRow {
  readonly round_id: string;
  readonly check_name: string;
  readonly key: string | null;
  readonly subject: string | null;
  readonly found: unknown;
  readonly action: string;
  readonly outcome: ReconciliationOutcome;
  readonly attempt: number;
  readonly result?: unknown;
  readonly error?: string;
}

export interface StoredReconciliation extends ReconciliationRow {
  readonly id: string;
  readonly created_at: Date | string;
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export async function insertReconciliation(q: Queryable, r: ReconciliationRow): Promise<StoredReconciliation> {
  const res = await q.query<StoredReconciliation>(
    `INSERT INTO ordo_reconciliations (round_id, check_name, key, subject, found, action, outcome, attempt, result, error)
     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9::text::jsonb, $10)
     RETURNING id::text AS id, round_id, check_name, key, subject, found, action, outcome, attempt, result, error, created_at`,
    [r.round_id, r.check_name, r.key, r.subject, json(r.found) ?? 'null', r.action, r.outcome, r.attempt, json(r.result), r.error ?? null],
  );
  const row = res.rows[0];
  if (!row) throw new Error('reconciliation was not recorded');
  return row;
}

export interface KeyHistory {
  /** Records of this key so far (corrections and failed corrections). */
  readonly attempts: number;
  /** Of which succeeded. */
  readonly corrected: number;
  /** ms since the last successful correction (database time); null if none. */
  readonly sinceCorrectedMs: number | null;
}

/** What was done about each key before. */
export async function historyOf(q: Queryable, keys: readonly string[]): Promise<Map<string, KeyHistory>> {
  if (keys.length === 0) return new Map();
  const r = await q.query<{ key: string; n: number; corrected: number; since_ms: number | null }>(
    `SELECT key, count(*)::int AS n, count(*) FILTER (WHERE outcome = 'corrected')::int AS corrected,
            (extract(epoch FROM now() - max(created_at) FILTER (WHERE outcome = 'corrected')) * 1000)::float8 AS since_ms
       FROM ordo_reconciliations WHERE key = ANY($1::text[]) GROUP BY key`,
    [[...keys]],
  );
  return new Map(r.rows.map((row) => [row.key, { attempts: Number(row.n), corrected: Number(row.corrected), sinceCorrectedMs: row.since_ms === null ? null : Number(row.since_ms) }]));
}

export interface ListFilter {
  readonly limit: number;
  /** Only rows older than this id (keyset paging, newest first). */
  readonly before?: string;
  readonly outcome?: ReconciliationOutcome;
  readonly check?: string;
  readonly subject?: string;
}

export async function listReconciliations(q: Queryable, f: ListFilter): Promise<StoredReconciliation[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.before !== undefined) where.push(`id < $${params.push(f.before)}::bigint`);
  if (f.outcome !== undefined) where.push(`outcome = $${params.push(f.outcome)}`);
  if (f.check !== undefined) where.push(`check_name = $${params.push(f.check)}`);
  if (f.subject !== undefined) where.push(`subject = $${params.push(f.subject)}`);
  const r = await q.query<StoredReconciliation>(
    `SELECT id::text AS id, round_id, check_name, key, subject, found, action, outcome, attempt, result, error, created_at
       FROM ordo_reconciliations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.push(f.limit)}`,
    params,
  );
  return r.rows;
}

export async function countByOutcome(q: Queryable): Promise<Record<ReconciliationOutcome, number>> {
  const r = await q.query<{ outcome: ReconciliationOutcome; n: number }>(`SELECT outcome, count(*)::int AS n FROM ordo_reconciliations GROUP BY outcome`);
  const out: Record<ReconciliationOutcome, number> = { corrected: 0, failed: 0, 'check-failed': 0 };
  for (const row of r.rows) out[row.outcome] = Number(row.n);
  return out;
}

/** Takes the round lease if it is free, expired or already ours; false when another process holds it. */
export async function claimRoundLease(q: Queryable, name: string, owner: string, leaseMs: number): Promise<boolean> {
  await q.query(`INSERT INTO ordo_reconciler_lease (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
  const r = await q.query(
    `UPDATE ordo_reconciler_lease SET owner = $2, lease_until = now() + $3::double precision * interval '1 millisecond'
      WHERE name = $1 AND (owner IS NULL OR owner = $2 OR lease_until < now()) RETURNING 1 AS held`,
    [name, owner, leaseMs],
  );
  return r.rows.length === 1;
}

export async function releaseRoundLease(q: Queryable, name: string, owner: string): Promise<void> {
  await q.query(`UPDATE ordo_reconciler_lease SET owner = NULL, lease_until = NULL WHERE name = $1 AND owner = $2`, [name, owner]);
}
