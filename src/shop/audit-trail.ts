import type { Queryable } from '../store/index.js';
import type { AuditEntry, AuditTrail } from './gateway/security-api.js';

/** A stored document larger than this is replaced by its size (a reconciliation round can be large). */
const MAX_DOCUMENT_BYTES = 32 * 1024;

/**
 * What a client sent is recorded as it was, except what PostgreSQL cannot hold: NUL
 * (refused by text and jsonb) and lone UTF-16 surrogates (refused by jsonb) become U+FFFD.
 * An audit record must never fail on a request's content.
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const storable = (s: string) => s.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

function clean(value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), clean(v)]));
}

function doc(value: unknown): string | null {
  if (value === undefined) return null;
  const json = JSON.stringify(clean(value)) ?? null;
  if (json === null) return null;
  return json.length > MAX_DOCUMENT_BYTES ? JSON.stringify({ truncated: true, bytes: json.length }) : json;
}

const text = (s: string | undefined) => (s === undefined ? null : storable(s));

interface Row {
  id: string;
  at: Date | string;
  actor: string;
  action: string;
  request_id: string;
  method: string;
  path: string;
  target: string | null;
  input: unknown;
  before: unknown;
  outcome: string;
  status: number | null;
  after: unknown;
  finished_at: Date | string | null;
}

const iso = (d: Date | string) => new Date(d).toISOString();

function view(r: Row): AuditEntry {
  return {
    id: r.id,
    at: iso(r.at),
    actor: r.actor,
    action: r.action,
    requestId: r.request_id,
    method: r.method,
    path: r.path,
    ...(r.target !== null ? { target: r.target } : {}),
    ...(r.input !== null ? { input: r.input } : {}),
    ...(r.before !== null ? { before: r.before } : {}),
    outcome: r.outcome,
    ...(r.status !== null ? { status: Number(r.status) } : {}),
    ...(r.after !== null ? { after: r.after } : {}),
    ...(r.finished_at !== null ? { finishedAt: iso(r.finished_at) } : {}),
  };
}

/** The audit trail in the gateway's database (table `gateway_audit`). */
export function sqlAuditTrail(db: Queryable): AuditTrail {
  return {
    async begin(e) {
      const r = await db.query<{ id: string }>(
        `INSERT INTO gateway_audit (actor, action, request_id, method, path, target, input, before) VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb) RETURNING id::text AS id`,
        [text(e.actor), text(e.action), text(e.requestId), text(e.method), text(e.path), text(e.target), doc(e.input), doc(e.before)],
      );
      const id = r.rows[0]?.id;
      if (!id) throw new Error('the audit record was not written');
      return id;
    },
    async finish(id, result) {
      await db.query(`UPDATE gateway_audit SET outcome = $2, status = $3, after = $4::text::jsonb, finished_at = now() WHERE id = $1`, [id, text(result.outcome), result.status, doc(result.after)]);
    },
    async list(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.before !== undefined) where.push(`id < $${params.push(q.before)}::bigint`);
      if (q.action !== undefined) where.push(`action = $${params.push(q.action)}`);
      if (q.actor !== undefined) where.push(`actor = $${params.push(q.actor)}`);
      const r = await db.query<Row>(
        `SELECT id::text AS id, at, actor, action, request_id, method, path, target, input, before, outcome, status, after, finished_at
           FROM gateway_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.push(q.limit)}`,
        params,
      );
      return r.rows.map(view);
    },
  };
}
