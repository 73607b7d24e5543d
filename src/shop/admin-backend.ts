import { accepts, edges, machineToJSON, OrdoError, toMermaid } from '../machine/index.js';
import { DeadLetterNotFoundError, SagaNotFoundError, sagaVersionCounts } from '../runtime/index.js';
import type { AdminBackend, AdminOverview, AlertView, CommandAttempt, DeadLetterView, StuckSaga } from './gateway/admin-api.js';
import type { ShopBackend } from './gateway/backend.js';
import { HttpError } from './gateway/http-errors.js';
import type { OrdersService } from './orders/orders-service.js';
import { stuckSagaFilter } from './stuck-sagas.js';

export interface AdminBackendDeps {
  readonly orders: OrdersService;
  /** For the cancellation rules the customer API already enforces. */
  readonly shop: ShopBackend;
  /** An active saga unchanged for this long, with no timer due soon, is stuck (default 60 s). */
  readonly stuckAfterSeconds?: number;
  /** The engine's clock (timer deadlines are ms on it). */
  readonly now?: () => number;
}

const THROUGHPUT_WINDOW_SECONDS = 60;
const RETRY_EVENT = 'CompensationRetried';

const iso = (d: Date | string | null | undefined): string | undefined => (d === null || d === undefined ? undefined : new Date(d).toISOString());

/**
 * The operator's view of the orders service: counts per state, throughput, stuck and
 * dead-lettered work, alerts, and the actions on them. Reads the engine's tables
 * directly (they are the one source of truth) and acts only through the engine.
 */
export function createAdminBackend(deps: AdminBackendDeps): AdminBackend {
  const { orders } = deps;
  const { db, engine, machine } = orders;
  const now = deps.now ?? Date.now;
  const defaultStuckAfter = deps.stuckAfterSeconds ?? 60;
  const cancellable = (state: string) => accepts(machine, state, 'CancelRequested') && !machine.states[state as keyof typeof machine.states].ignore.includes('CancelRequested');
  const takesRetry = (state: string) => state in machine.states && accepts(machine, state, RETRY_EVENT);

  const stuckFilter = (afterSeconds: number) => stuckSagaFilter(machine.id, afterSeconds, now());

  async function stuckRows(afterSeconds: number, limit: number) {
    const f = stuckFilter(afterSeconds);
    const r = await db.query<{ id: string; state: string; status: string; updated_at: Date; idle: number; next_due: string | null }>(
      `SELECT i.id, i.state, i.status, i.updated_at, extract(epoch FROM now() - i.updated_at)::float8 AS idle,
              (SELECT min(t.due_at)::text FROM ordo_saga_timers t WHERE t.saga_id = i.id) AS next_due
         FROM ordo_saga_instances i WHERE ${f.where} ORDER BY i.updated_at LIMIT $5`,
      [...f.params, limit],
    );
    return r.rows;
  }

  async function stuckCount(afterSeconds: number): Promise<number> {
    const f = stuckFilter(afterSeconds);
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ordo_saga_instances i WHERE ${f.where}`, f.params);
    return Number(r.rows[0]?.n ?? 0);
  }

  return {
    async overview(stuckAfterSeconds = defaultStuckAfter): Promise<AdminOverview> {
      const counts = await db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ordo_saga_instances WHERE machine_id = $1 GROUP BY state`, [machine.id]);
      const byState = new Map(counts.rows.map((r) => [r.state, Number(r.n)]));
      // States of older machine versions still count; they are listed after the current ones.
      const names = [...machine.stateNames, ...[...byState.keys()].filter((s) => !(machine.stateNames as readonly string[]).includes(s))];
      const t = await db.query<{ created: number; finished: number }>(
        `SELECT count(*) FILTER (WHERE created_at > now() - make_interval(secs => $2))::int AS created,
                count(*) FILTER (WHERE status = 'final' AND updated_at > now() - make_interval(secs => $2))::int AS finished
           FROM ordo_saga_instances WHERE machine_id = $1 AND (created_at > now() - make_interval(secs => $2) OR updated_at > now() - make_interval(secs => $2))`,
        [machine.id, THROUGHPUT_WINDOW_SECONDS],
      );
      const waiting = await db.query<{ alerts: number; dead: number }>(
        `SELECT (SELECT count(*) FROM ordo_saga_alerts WHERE resolved_at IS NULL)::int AS alerts,
                (SELECT count(*) FROM ordo_dead_letters WHERE replayed_at IS NULL)::int AS dead`,
      );
      const stuck = await stuckCount(stuckAfterSeconds);
      const states = names.map((state) => ({ state, count: byState.get(state) ?? 0 }));
      return {
        machine: { id: machine.id, version: machine.version },
        states,
        total: states.reduce((sum, s) => sum + s.count, 0),
        throughput: { created: Number(t.rows[0]?.created ?? 0), finished: Number(t.rows[0]?.finished ?? 0), windowSeconds: THROUGHPUT_WINDOW_SECONDS },
        openAlerts: Number(waiting.rows[0]?.alerts ?? 0),
        deadLettersWaiting: Number(waiting.rows[0]?.dead ?? 0),
        stuck,
        stuckAfterSeconds,
        versions: (await sagaVersionCounts(db)).filter((v) => v.machine === machine.id).map(({ version, unfinished, finished }) => ({ version, unfinished, finished })),
        at: new Date().toISOString(),
      };
    },

    machine() {
      return {
        definition: machineToJSON(machine),
        mermaid: toMermaid(machine),
        edges: edges(machine).map((e) => ({ from: e.from, to: e.to, kind: e.kind, trigger: e.trigger, ...(e.guard ? { guard: e.guard } : {}) })),
      };
    },

    async deadLetters({ includeReplayed, limit }): Promise<DeadLetterView[]> {
      const r = await db.query<{
        id: string;
        message_id: string;
        saga_id: string | null;
        message: { type?: string; payload?: unknown; key?: string };
        error_code: string;
        reason: string;
        attempts: number;
        created_at: Date;
        replayed_at: Date | null;
      }>(
        `SELECT id::text AS id, message_id, saga_id, message, error_code, reason, attempts, created_at, replayed_at FROM ordo_dead_letters
          ${includeReplayed ? '' : 'WHERE replayed_at IS NULL'} ORDER BY id DESC LIMIT $1`,
        [limit],
      );
      return r.rows.map((row) => {
        const sagaId = row.saga_id ?? row.message.key;
        const replayedAt = iso(row.replayed_at);
        return {
          id: row.id,
          messageId: row.message_id,
          ...(sagaId ? { sagaId } : {}),
          type: row.message.type ?? '(unknown)',
          payload: row.message.payload ?? null,
          errorCode: row.error_code,
          reason: row.reason,
          attempts: Number(row.attempts),
          createdAt: iso(row.created_at) ?? '',
          ...(replayedAt ? { replayedAt } : {}),
        };
      });
    },

    async replayDeadLetter(id) {
      try {
        const r = await engine.replayDeadLetter(id);
        orders.notify();
        return { id, status: r.status, ...('state' in r ? { state: r.state } : {}) };
      } catch (err) {
        if (err instanceof DeadLetterNotFoundError) throw new HttpError(404, 'NOT_FOUND', `no dead letter ${id} waiting for replay`);
        if (err instanceof SagaNotFoundError) throw new HttpError(409, 'REPLAY_FAILED', `dead letter ${id}: its saga ${err.sagaId} does not exist (yet); it stays dead-lettered`);
        if (err instanceof OrdoError) throw new HttpError(409, 'REPLAY_FAILED', `dead letter ${id} failed again (${err.code}: ${err.message}); it stays dead-lettered with one more attempt`);
        throw err;
      }
    },

    async alerts({ includeResolved, limit }): Promise<AlertView[]> {
      const r = await db.query<{ id: string; saga_id: string; kind: string; detail: unknown; created_at: Date; resolved_at: Date | null; state: string | null }>(
        `SELECT a.id::text AS id, a.saga_id, a.kind, a.detail, a.created_at, a.resolved_at, i.state
           FROM ordo_saga_alerts a LEFT JOIN ordo_saga_instances i ON i.id = a.saga_id
          ${includeResolved ? '' : 'WHERE a.resolved_at IS NULL'} ORDER BY a.id DESC LIMIT $1`,
        [limit],
      );
      return r.rows.map((row) => {
        const resolvedAt = iso(row.resolved_at);
        return {
          id: row.id,
          sagaId: row.saga_id,
          kind: row.kind,
          detail: row.detail,
          createdAt: iso(row.created_at) ?? '',
          ...(resolvedAt ? { resolvedAt } : {}),
          ...(row.state ? { sagaState: row.state } : {}),
          retryable: row.state !== null && takesRetry(row.state),
        };
      });
    },

    async stuck(limit, afterSeconds = defaultStuckAfter): Promise<StuckSaga[]> {
      const rows = await stuckRows(afterSeconds, limit);
      return rows.map((row) => {
        // Timer deadlines are on the engine's clock; shown on the wall clock.
        const next = row.next_due === null ? undefined : new Date(Date.now() + (Number(row.next_due) - now())).toISOString();
        return {
          orderId: row.id,
          state: row.state,
          status: row.status,
          updatedAt: iso(row.updated_at) ?? '',
          idleSeconds: Math.round(Number(row.idle)),
          ...(next ? { nextTimerAt: next } : {}),
          cancellable: cancellable(row.state),
        };
      });
    },

    async retryCompensation(orderId) {
      const saga = await engine.getSaga(orderId);
      if (!saga || saga.machineId !== machine.id) throw new HttpError(404, 'NOT_FOUND', `no order ${orderId}`);
      const state = saga.snapshot.state;
      if (!takesRetry(state)) throw new HttpError(409, 'NOT_PARKED', `order ${orderId} is ${state}; only a saga parked after a failed compensation can be retried`);
      const r = await engine.retryCompensation(orderId);
      orders.notify();
      return { orderId, status: 'state' in r ? r.state : state };
    },

    async attempts(orderId): Promise<CommandAttempt[]> {
      const saga = await engine.getSaga(orderId);
      if (!saga || saga.machineId !== machine.id) throw new HttpError(404, 'NOT_FOUND', `no order ${orderId}`);
      const r = await db.query<{ step: string; compensation: boolean; attempt: number; retryable: boolean; error: string; retry_at: string | null; created_at: Date }>(
        `SELECT step, compensation, attempt, retryable, error, retry_at::text AS retry_at, created_at FROM ordo_command_attempts WHERE saga_id = $1 ORDER BY created_at, seq, attempt`,
        [orderId],
      );
      const offset = Date.now() - now();
      return r.rows.map((row) => ({
        step: row.step,
        compensation: row.compensation,
        attempt: Number(row.attempt),
        retryable: row.retryable,
        error: row.error,
        at: iso(row.created_at) ?? '',
        ...(row.retry_at === null ? {} : { retryAt: new Date(Number(row.retry_at) + offset).toISOString() }),
      }));
    },

    async compensate(orderId, reason) {
      const r = await deps.shop.cancelOrder(orderId, reason);
      return { orderId, status: r.status };
    },
  };
}
