import type { Logger } from '../observe/index.js';
import { checkRetentionPolicy, runOutboxRetention, runSagaRetention, startRetention, type RetentionPolicy, type RetentionReport } from '../runtime/index.js';
import { isFinal } from '../machine/index.js';
import { vacuumWhereNeeded, type Db } from '../store/index.js';
import { orderMachine } from './order-machine.js';
import { ORDER_VIEW_TABLE } from './order-view.js';

/** The shop's retention: policy plus how often a round runs. */
export interface ShopRetention extends RetentionPolicy {
  readonly intervalMs: number;
}

/**
 * Defaults: finished orders move to the archive tables after 30 days (GET /orders/:id still
 * finds them there), inbox entries and published service reports after 7 days (far beyond
 * any redelivery: NATS ack wait 30 s, Kafka rebalance), one round every 10 minutes.
 */
export const DEFAULT_SHOP_RETENTION: ShopRetention = { finishedAfterMs: 30 * 86_400_000, inboxAfterMs: 7 * 86_400_000, mode: 'archive', intervalMs: 600_000 };

/** The streams of an order in the orders log: its saga stream and the reconciler's corrections. */
export const orderStreams = (machineId: string, orderId: string): string[] => [`${machineId}-${orderId}`, `reconcile-${orderId}`];

const FINAL_STATES = orderMachine.stateNames.filter((s) => isFinal(orderMachine, s));

/**
 * `order_view` (GET /orders) lists the orders whose streams are in the log, as a rebuild
 * from the log would: a retired order leaves it too (GET /orders/:id still finds an
 * archived one). Only finished rows past the window are looked at, so the round stays small.
 */
async function dropRetiredFromView(db: Db, finishedAfterMs: number): Promise<void> {
  const present = await db.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [ORDER_VIEW_TABLE]);
  if (!present.rows[0]?.present) return;
  await db.query(
    `DELETE FROM ${ORDER_VIEW_TABLE} v
     WHERE v.status = ANY($1::text[]) AND v.updated_at < now() - $2::bigint * interval '1 millisecond'
       AND NOT EXISTS (SELECT 1 FROM ordo_saga_instances i WHERE i.id = v.order_id)`,
    [FINAL_STATES, finishedAfterMs],
  );
}

/**
 * The shop's own tables that leave dead rows behind, beside the engine's and the outbox's
 * (which their rounds vacuum): in the orders database, order_view (a row updated at every
 * transition), the gateway's catalogue (every StockChanged) and stock requests, and the
 * idempotency keys retention deletes; in each service's, the rows its handlers update (a
 * SKU's stock row at every reservation and shipment, a reservation's or a shipment's status,
 * a charge refunded). Vacuumed like the engine's tables (`RetentionPolicy.vacuum`): by
 * default only where autovacuum does not run (PGlite, a server with it off). A name that is
 * not a table of that database is skipped (shop-retention.int checks each list against the
 * migrated databases).
 */
export const SHOP_CHURN_TABLES: Readonly<Record<'orders' | 'inventory' | 'payment' | 'shipping', readonly string[]>> = {
  orders: [ORDER_VIEW_TABLE, 'gateway_catalogue', 'gateway_stock_requests', 'order_idempotency_keys'],
  inventory: ['stock', 'reservations'],
  payment: ['charges', 'provider_ledger', 'fraud_checks'],
  shipping: ['shipments'],
};

const churnOf = (service: string): readonly string[] => (SHOP_CHURN_TABLES as Record<string, readonly string[] | undefined>)[service] ?? [];

/** One round for the orders database: finished orders with their streams (and their order_view rows), inbox, idempotency keys past the inbox window; then the vacuum of the shop's tables. */
export async function ordersRetentionRound(db: Db, policy: RetentionPolicy): Promise<RetentionReport> {
  const report = await runSagaRetention(db, policy, orderStreams);
  await dropRetiredFromView(db, policy.finishedAfterMs);
  await db.query(`DELETE FROM order_idempotency_keys WHERE created_at < now() - $1::bigint * interval '1 millisecond'`, [policy.inboxAfterMs]);
  const vacuumed = await vacuumWhereNeeded(db, SHOP_CHURN_TABLES.orders, checkRetentionPolicy(policy).vacuum);
  return { ...report, vacuumed: [...report.vacuumed, ...vacuumed] };
}

/** One round for a service's database: its outbox and inbox past the inbox window, then the vacuum of its tables. */
export async function serviceRetentionRound(service: string, db: Db, policy: RetentionPolicy): Promise<RetentionReport> {
  const report = await runOutboxRetention(db, policy);
  const vacuumed = await vacuumWhereNeeded(db, churnOf(service), checkRetentionPolicy(policy).vacuum);
  return { ...report, vacuumed: [...report.vacuumed, ...vacuumed] };
}

/** Background retention for the databases this process owns; returns a stop function. */
export function startShopRetention(dbs: { readonly orders?: Db; readonly services: readonly { readonly name: string; readonly db: Db }[] }, policy: ShopRetention, log: Logger): () => Promise<void> {
  const loops = [
    ...(dbs.orders ? [{ name: 'orders', round: ((db: Db) => () => ordersRetentionRound(db, policy))(dbs.orders) }] : []),
    ...dbs.services.map((s) => ({ name: s.name, round: () => serviceRetentionRound(s.name, s.db, policy) })),
  ].map(({ name, round }) =>
    startRetention({
      round,
      intervalMs: policy.intervalMs,
      onReport: (r) => {
        if (r.sagas + r.messages + r.inbox > 0) log.info({ service: name, ...r }, 'retention round');
      },
      onError: (err) => log.warn({ service: name, err }, 'retention round failed; next round tries again'),
    }),
  );
  return async () => {
    for (const l of loops) await l.stop();
  };
}
