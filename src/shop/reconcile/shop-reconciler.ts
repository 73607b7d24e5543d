import type { Logger, OrdoMetrics } from '../../observe/index.js';
import { createReconciler, InvalidReconcilerOptionError, type EngineLogger, type Reconciler, type ReconcilerCheck, type Reconciliation } from '../../runtime/index.js';
import type { OrdersService } from '../orders/orders-service.js';
import type { WiringMode } from '../services/service-definitions.js';
import { awaitingReplyCheck } from './awaiting-reply-check.js';
import { canceledChargedCheck, canceledHoldsReservationCheck } from './canceled-checks.js';
import type { CheckDeps, ServiceViews, StuckInitiatedPolicy } from './check-deps.js';
import { stuckInitiatedCheck } from './initiated-check.js';
import { createPropertyMonitor } from '../monitor/property-monitor.js';

export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;

export interface ShopReconcilerOptions {
  /** The orders service: the reconciler runs beside it and records in its database. */
  readonly orders: OrdersService;
  readonly views: ServiceViews;
  readonly mode: WiringMode;
  /** Time between rounds (default 30 s); `false` = only on demand. */
  readonly intervalMs?: number | false;
  /** How long an order must sit in its state before it is looked at (default 60 s; 0 in tests). */
  readonly graceMs?: number;
  /** Wait before the same correction is sent again, doubling each time (default 60 s). */
  readonly settleMs?: number;
  /** How far back CANCELED orders are compared with the payment service (default 7 days). */
  readonly lookbackMs?: number;
  /** Most orders one check handles per round (default 500). */
  readonly batch?: number;
  readonly stuckInitiated?: StuckInitiatedPolicy;
  /** The engine's clock (default Date.now). */
  readonly now?: () => number;
  /** Extra checks, run after the shop's own (e.g. in tests). */
  readonly extraChecks?: readonly ReconcilerCheck[];
  readonly logger?: EngineLogger;
  readonly onRecord?: (r: Reconciliation) => void;
}

/**
 * The shop's checks, in the order a round runs them. Stuck-initiated goes last: it sets an
 * order moving, and a check after it in the same round (with a short grace) would find that
 * order mid-flight — waiting for a reply it is about to get — and ask again.
 */
export function shopReconcilerChecks(deps: CheckDeps): ReconcilerCheck[] {
  return [canceledHoldsReservationCheck(deps), canceledChargedCheck(deps), awaitingReplyCheck(deps), stuckInitiatedCheck(deps)];
}

/** The shop's reconciler (DESIGN.md §2): compares the order sagas with the inventory, payment and shipping databases. */
export function createShopReconciler(options: ShopReconcilerOptions): Reconciler {
  const graceMs = options.graceMs ?? 60_000;
  if (!(Number.isFinite(graceMs) && graceMs >= 0)) throw new InvalidReconcilerOptionError('graceMs', `must be ≥ 0 ms, got ${String(graceMs)}`);
  const batch = options.batch ?? 500;
  if (!(Number.isInteger(batch) && batch > 0)) throw new InvalidReconcilerOptionError('batch', `must be a positive integer, got ${String(batch)}`);
  const deps: CheckDeps = {
    orders: options.orders,
    views: options.views,
    mode: options.mode,
    graceMs,
    lookbackMs: options.lookbackMs ?? 7 * 24 * 3_600_000,
    batch,
    now: options.now ?? Date.now,
    stuckInitiated: options.stuckInitiated ?? 'auto',
  };
  return createReconciler({
    db: options.orders.db,
    checks: [...shopReconcilerChecks(deps), ...(options.extraChecks ?? [])],
    intervalMs: options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
    ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
    name: 'shop-reconciler',
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onRecord ? { onRecord: options.onRecord } : {}),
  });
}

/**
 * The reconciler as `startShop` runs it: periodic in the process that runs the orders
 * service, on demand only in a gateway-only process (for `POST /admin/reconcile`). Every
 * record counts in `ordo_reconciliations_total`.
 */
export async function startShopReconciler(options: {
  readonly orders: OrdersService;
  readonly views: ServiceViews;
  readonly mode: WiringMode;
  readonly periodic: boolean;
  /** Default 30 s; `false` = no periodic rounds. */
  readonly intervalMs?: number | false;
  readonly log: Logger;
  readonly metrics: OrdoMetrics;
}): Promise<Reconciler> {
  const reconciler = createShopReconciler({
    orders: options.orders,
    views: options.views,
    mode: options.mode,
    intervalMs: options.periodic ? (options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS) : false,
    logger: options.log,
    onRecord: (r) => options.metrics.reconciliations.inc({ check: r.check, outcome: r.outcome }),
    // Each round also evaluates the system invariants on the live databases (the runtime monitor).
    extraChecks: [createPropertyMonitor({ orders: options.orders, views: options.views, metrics: options.metrics, log: options.log.child({ component: 'property-monitor' }) }).check],
  });
  await reconciler.start();
  return reconciler;
}
