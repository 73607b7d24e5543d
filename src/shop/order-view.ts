import { preparedStatement, type Queryable, type StoredMessage } from '../store/index.js';
import { aggregateStream, decodeTimeCursor, defineProjection, encodeTimeCursor, InvalidQueryError, readTimeline, MIGRATED, START, TRANSITION, type TimelineEntry, type TransitionData } from '../eventsourcing/index.js';
import { orderDecider, orderStream } from './order-aggregate.js';
import { moneyFromSql } from './money.js';
import { orderMachine, type OrderContext, type OrderState } from './order-machine.js';

/** One order as the search page and `GET /orders` show it. */
export interface OrderView {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderState;
  /** Cents. */
  readonly total: number;
  readonly items: OrderContext['items'];
  readonly failureReason: string | null;
  /** The order stream's version this row includes. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export const ORDER_VIEW_TABLE = 'order_view';

/*
 * Timestamps come from the log (`createdAt` of the messages), never now(), so that a
 * rebuild produces the same rows. Pages are ordered by (created_at, order_id), which never
 * change, so paging while orders move on neither skips nor repeats one.
 */
async function setup(q: Queryable, t: string): Promise<void> {
  await q.query(`CREATE TABLE IF NOT EXISTS ${t} (
    order_id text PRIMARY KEY,
    stream text NOT NULL,
    customer_id text NOT NULL,
    status text NOT NULL,
    total bigint NOT NULL,
    items jsonb NOT NULL,
    failure_reason text,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  )`);
  await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${t}_stream ON ${t} (stream)`);
  await q.query(`CREATE INDEX IF NOT EXISTS ${t}_created ON ${t} (created_at DESC, order_id DESC)`);
  await q.query(`CREATE INDEX IF NOT EXISTS ${t}_status ON ${t} (status, created_at DESC, order_id DESC)`);
  await q.query(`CREATE INDEX IF NOT EXISTS ${t}_customer ON ${t} (customer_id, created_at DESC, order_id DESC)`);
}

const isOrder = (m: StoredMessage): boolean => m.metadata['machine'] === orderMachine.id;

/** One order's row as a batch of its messages leaves it. */
interface Patch {
  stream: string;
  created?: { order_id: string; customer_id: string; total: number; items: unknown; created_at: string };
  status: string;
  failure_reason: string | null;
  version: number;
  updated_at: string;
}

/*
 * A batch becomes two statements whatever its size: the messages are folded per order in
 * memory first (in log order), then new orders are inserted and existing ones updated.
 * Idempotent by stream version: a message applied twice (a projector and a rebuild
 * disagreeing on a checkpoint) changes nothing the second time.
 */
async function handle(messages: readonly StoredMessage[], { q, table: t }: { q: Queryable; table: string }): Promise<void> {
  const patches = new Map<string, Patch>();
  for (const m of messages) {
    // A migration record carries from/to/changes as a transition does (its state may change).
    if (!isOrder(m) || (m.type !== TRANSITION && m.type !== MIGRATED)) continue;
    const d = m.data as Partial<TransitionData> & { trigger?: { type?: string }; to?: string };
    // Records without `changes` (the saga runtime's, until it writes them) cannot be projected.
    if (!d.changes || typeof d.to !== 'string') continue;
    const reason = typeof d.changes['failureReason'] === 'string' ? d.changes['failureReason'] : null;
    const at = m.createdAt.toISOString();
    const p = patches.get(m.stream);
    if (d.trigger?.type === START) {
      const c = d.changes as Partial<OrderContext>;
      if (typeof c.orderId !== 'string' || typeof c.customerId !== 'string') continue;
      const created = { order_id: c.orderId, customer_id: c.customerId, total: c.total ?? 0, items: c.items ?? [], created_at: at };
      patches.set(m.stream, { stream: m.stream, created, status: d.to, failure_reason: reason, version: m.streamVersion, updated_at: at });
    } else if (p) {
      Object.assign(p, { status: d.to, failure_reason: reason ?? p.failure_reason, version: m.streamVersion, updated_at: at });
    } else {
      patches.set(m.stream, { stream: m.stream, status: d.to, failure_reason: reason, version: m.streamVersion, updated_at: at });
    }
  }
  const created = [...patches.values()].filter((p) => p.created).map((p) => ({ ...p.created, stream: p.stream, status: p.status, failure_reason: p.failure_reason, version: p.version, updated_at: p.updated_at }));
  const updated = [...patches.values()].filter((p) => !p.created);
  if (created.length > 0) {
    await q.query(
      preparedStatement(`INSERT INTO ${t} (order_id, stream, customer_id, status, total, items, failure_reason, version, created_at, updated_at)
       SELECT r.order_id, r.stream, r.customer_id, r.status, r.total, r.items, r.failure_reason, r.version, r.created_at, r.updated_at
       FROM jsonb_to_recordset($1::text::jsonb) AS r(order_id text, stream text, customer_id text, status text, total bigint, items jsonb,
         failure_reason text, version integer, created_at timestamptz, updated_at timestamptz)
       ON CONFLICT (order_id) DO NOTHING`),
      [JSON.stringify(created)],
    );
  }
  if (updated.length > 0) {
    await q.query(
      preparedStatement(`UPDATE ${t} AS v SET status = u.status, failure_reason = coalesce(u.failure_reason, v.failure_reason), version = u.version, updated_at = u.updated_at
       FROM jsonb_to_recordset($1::text::jsonb) AS u(stream text, status text, failure_reason text, version integer, updated_at timestamptz)
       WHERE v.stream = ANY($2::text[]) AND v.stream = u.stream AND v.version < u.version`),
      // The streams again as an array: the planner finds those rows by index. Joined to the
      // record set alone (of unknown size to it), it read the whole table at every batch.
      [JSON.stringify(updated), updated.map((u) => u.stream)],
    );
  }
}

/** The order list read model; register it inline with the command handler or with a projector. */
export const orderViewProjection = defineProjection({
  name: 'order_view',
  table: ORDER_VIEW_TABLE,
  canHandle: [TRANSITION, MIGRATED],
  setup,
  handle,
});

interface Row {
  order_id: string;
  customer_id: string;
  status: string;
  total: unknown;
  items: OrderContext['items'];
  failure_reason: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
  /** created_at as PostgreSQL prints it (microseconds), for the page cursor. */
  created_key?: string;
}

const COLUMNS = 'order_id, customer_id, status, total, items, failure_reason, version, created_at, updated_at';
const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toView(r: Row): OrderView {
  return {
    orderId: r.order_id,
    customerId: r.customer_id,
    status: r.status as OrderState,
    // bigint: a string from pg, a number (or bigint) from PGlite; exact or an error, never rounded.
    total: moneyFromSql(r.total, `order ${r.order_id} total`),
    items: r.items,
    failureReason: r.failure_reason,
    version: Number(r.version),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

export interface ListOrdersQuery {
  readonly status?: string;
  readonly customerId?: string;
  /** 1 to 500 (default 50). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface OrderPage {
  readonly orders: OrderView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  readonly nextCursor: string | null;
}

export const MAX_PAGE = 500;

/**
 * The statement behind `listOrders`: each filter it can take has an index that also gives
 * the order (customer, status, neither), so a page costs its rows, not the table.
 */
export function listOrdersSql(query: ListOrdersQuery = {}, table = ORDER_VIEW_TABLE): { sql: string; params: unknown[]; limit: number } {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidQueryError('limit', `must be an integer from 1 to ${MAX_PAGE}, got ${String(limit)}`);
  if (query.status !== undefined && !(orderMachine.stateNames as readonly string[]).includes(query.status)) {
    throw new InvalidQueryError('status', `must be one of ${orderMachine.stateNames.join(', ')}, got "${query.status}"`);
  }
  if (query.customerId !== undefined && (typeof query.customerId !== 'string' || query.customerId.length === 0)) throw new InvalidQueryError('customerId', 'must be a non-empty string');
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) where.push(`status = $${params.push(query.status)}`);
  if (query.customerId !== undefined) where.push(`customer_id = $${params.push(query.customerId)}`);
  if (query.cursor !== undefined) {
    const { at, id } = decodeTimeCursor(query.cursor);
    where.push(`(created_at, order_id) < ($${params.push(at)}::timestamptz, $${params.push(id)})`);
  }
  const sql = `SELECT ${COLUMNS}, created_at::text AS created_key FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, order_id DESC LIMIT $${params.push(limit + 1)}`;
  return { sql, params, limit };
}

/** Newest orders first, filtered by status and/or customer, one page at a time. */
export async function listOrders(q: Queryable, query: ListOrdersQuery = {}, table = ORDER_VIEW_TABLE): Promise<OrderPage> {
  const { sql, params, limit } = listOrdersSql(query, table);
  const r = await q.query<Row>(sql, params);
  const page = r.rows.slice(0, limit);
  const last = page.at(-1);
  return { orders: page.map(toView), nextCursor: r.rows.length > limit && last?.created_key ? encodeTimeCursor(last.created_key, last.order_id) : null };
}

export async function getOrderView(q: Queryable, orderId: string, table = ORDER_VIEW_TABLE): Promise<OrderView | undefined> {
  const r = await q.query<Row>(`SELECT ${COLUMNS} FROM ${table} WHERE order_id = $1`, [orderId]);
  const row = r.rows[0];
  return row ? toView(row) : undefined;
}

/** `GET /orders/:id`: the order as its own stream says (never behind), with its timeline. */
export interface OrderDetails {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderState;
  readonly items: OrderContext['items'];
  /** Cents. */
  readonly total: number;
  readonly failureReason: string | null;
  readonly version: number;
  readonly timeline: TimelineEntry[];
}

export async function getOrderDetails(q: Queryable, orderId: string): Promise<OrderDetails | undefined> {
  const stream = orderStream(orderId);
  const loaded = await aggregateStream(q, orderDecider, stream);
  const s = loaded.state;
  if (!s) return undefined;
  const c = s.context;
  return {
    orderId: c.orderId,
    customerId: c.customerId,
    status: s.state,
    items: c.items,
    total: c.total,
    failureReason: c.failureReason ?? null,
    version: loaded.version,
    timeline: await readTimeline(q, stream),
  };
}
