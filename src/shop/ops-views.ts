import { logBacklog, readArchivedStream, readStream, type Db, type StoredMessage } from '../store/index.js';
import { topics } from './contracts.js';
import { orderTimelineOf } from './orders/order-timeline.js';

/** The databases an operator's views read: the orders service's and each participant's. */
export type OpsDbs = Readonly<Partial<Record<'orders' | 'inventory' | 'payment' | 'shipping', Db>>>;

export const PARTICIPANTS = ['inventory', 'payment', 'shipping'] as const;
export type Participant = (typeof PARTICIPANTS)[number];

/** A dead letter of one of the participant services (`service_dead_letters`). */
export interface ServiceDeadLetterView {
  readonly service: Participant;
  readonly id: string;
  readonly messageId: string;
  readonly topic: string;
  readonly type: string;
  readonly reason: string;
  readonly createdAt: string;
  /** When an operator's replay handled it again, by whom, and what became of it. */
  readonly replayedAt?: string;
  readonly replayedBy?: string;
  readonly replayOutcome?: string;
}

export async function serviceDeadLetters(dbs: OpsDbs, limit: number): Promise<ServiceDeadLetterView[]> {
  const out: ServiceDeadLetterView[] = [];
  for (const service of PARTICIPANTS) {
    const db = dbs[service];
    if (!db) continue;
    const r = await db
      .query<{ id: string; message_id: string; topic: string; type: string; reason: string; created_at: Date; replayed_at: Date | null; replayed_by: string | null; replay_outcome: string | null }>(
        'SELECT id::text AS id, message_id, topic, type, reason, created_at, replayed_at, replayed_by, replay_outcome FROM service_dead_letters ORDER BY id DESC LIMIT $1',
        [limit],
      )
      .catch(() => ({ rows: [] })); // a service that never started has no table yet
    for (const row of r.rows)
      out.push({
        service,
        id: row.id,
        messageId: row.message_id,
        topic: row.topic,
        type: row.type,
        reason: row.reason,
        createdAt: new Date(row.created_at).toISOString(),
        ...(row.replayed_at ? { replayedAt: new Date(row.replayed_at).toISOString(), replayedBy: row.replayed_by ?? '', replayOutcome: row.replay_outcome ?? '' } : {}),
      });
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
}

/** One step of an order's history across services, with everyone's state after it. */
export interface HistoryStep {
  readonly at: string;
  /** Who wrote it: the orders service (its saga) or a participant. */
  readonly service: 'orders' | Participant;
  readonly type: string;
  readonly data: unknown;
  /** The order machine's state after this step. */
  readonly orderState: string;
  readonly from?: string;
  readonly to?: string;
  /** Each participant's last report for this order after this step (`none` before its first). */
  readonly participants: Readonly<Record<Participant, string>>;
}

/**
 * The order's history one message at a time: its saga stream (transitions, commands sent,
 * events published) and the participants' streams (`<service>-<orderId>`: their reports),
 * merged by time. A participant's state is its newest report: the services' own words,
 * not a second copy of their rules.
 */
/** A stream as retention left it: what moved to the archive, then what is still in the log. */
async function wholeStream(db: Db, stream: string): Promise<StoredMessage[]> {
  return [...(await readArchivedStream(db, stream)), ...(await readStream(db, stream))];
}

export async function orderHistory(dbs: OpsDbs, orderId: string): Promise<HistoryStep[] | undefined> {
  if (!dbs.orders) return undefined;
  const own = await wholeStream(dbs.orders, `order-${orderId}`);
  if (own.length === 0) return undefined;
  const entries: { at: string; service: 'orders' | Participant; type: string; data: unknown; from?: string; to?: string; seq: number }[] = [];
  let seq = 0;
  for (const e of orderTimelineOf(own)) entries.push({ at: e.at, service: 'orders', type: e.type, data: e.data, ...(e.from !== undefined ? { from: e.from } : {}), ...(e.to !== undefined ? { to: e.to } : {}), seq: seq++ });
  for (const service of PARTICIPANTS) {
    const db = dbs[service];
    if (!db) continue;
    const msgs: StoredMessage[] = await wholeStream(db, `${service}-${orderId}`).catch(() => []);
    // The stock feed shares the inventory's order stream; it is not a report about the order.
    for (const m of msgs.filter((x) => x.metadata['topic'] !== topics.stock)) entries.push({ at: m.createdAt.toISOString(), service, type: m.type, data: m.data, seq: seq++ });
  }
  // Stable by time; ties keep each stream's own order.
  entries.sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq);
  const participants: Record<Participant, string> = { inventory: 'none', payment: 'none', shipping: 'none' };
  let orderState = '';
  return entries.map(({ seq: _seq, ...e }) => {
    if (e.service === 'orders' && e.type === 'transition' && e.to) orderState = e.to;
    if (e.service !== 'orders') participants[e.service] = e.type;
    return { ...e, orderState, participants: { ...participants } };
  });
}

/** One point of the dashboard's charts. */
export interface OpsSample {
  readonly at: string;
  /** Orders created and finished in the minute before `at` (a per-minute rate). */
  readonly startedPerMinute: number;
  readonly finishedPerMinute: number;
  /** Completion latency (created → final) of the orders finished in that minute, seconds. */
  readonly latency: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
  /** Log messages each service's outbox relay has not forwarded yet. */
  readonly outboxLag: Readonly<Record<string, number>>;
  /** Dead letters waiting, per service (the orders engine's and each participant's). */
  readonly deadLetters: Readonly<Record<string, number>>;
}

export async function opsSample(dbs: OpsDbs, machineId: string): Promise<OpsSample> {
  const outboxLag: Record<string, number> = {};
  const deadLetters: Record<string, number> = {};
  let started = 0;
  let finished = 0;
  let latency: OpsSample['latency'] = { p50: null, p90: null, p99: null };
  if (dbs.orders) {
    // Instances changed in the last minute, by index (runtime migration 4); one created in it was last changed in it too.
    const r = await dbs.orders.query<{ started: number; finished: number; p: (number | null)[] | null }>(
      `SELECT count(*) FILTER (WHERE created_at > now() - interval '1 minute')::int AS started,
              count(*) FILTER (WHERE status = 'final' AND updated_at > now() - interval '1 minute')::int AS finished,
              (SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at))
                 FROM ordo_saga_instances WHERE machine_id = $1 AND status = 'final' AND updated_at > now() - interval '1 minute') AS p
         FROM ordo_saga_instances WHERE machine_id = $1 AND updated_at > now() - interval '1 minute'`,
      [machineId],
    );
    const row = r.rows[0];
    started = Number(row?.started ?? 0);
    finished = Number(row?.finished ?? 0);
    const p = row?.p ?? null;
    const at = (i: number) => (p && p[i] !== null && p[i] !== undefined ? Math.round(Number(p[i]) * 1000) / 1000 : null);
    latency = { p50: at(0), p90: at(1), p99: at(2) };
    outboxLag['orders'] = (await logBacklog(dbs.orders, 'orders-outbox')).messages;
    const dl = await dbs.orders.query<{ n: number }>('SELECT count(*)::int AS n FROM ordo_dead_letters WHERE replayed_at IS NULL');
    deadLetters['orders'] = Number(dl.rows[0]?.n ?? 0);
  }
  for (const service of PARTICIPANTS) {
    const db = dbs[service];
    if (!db) continue;
    outboxLag[service] = (await logBacklog(db, `${service}-outbox`).catch(() => ({ messages: 0 }))).messages;
    const dl = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_dead_letters WHERE replayed_at IS NULL').catch(() => ({ rows: [{ n: 0 }] }));
    deadLetters[service] = Number(dl.rows[0]?.n ?? 0);
  }
  return { at: new Date().toISOString(), startedPerMinute: started, finishedPerMinute: finished, latency, outboxLag, deadLetters };
}
