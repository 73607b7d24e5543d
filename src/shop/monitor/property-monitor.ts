import type { Logger, OrdoMetrics } from '../../observe/index.js';
import type { ReconcilerCheck } from '../../runtime/index.js';
import type { Queryable } from '../../store/index.js';
import { monitorProperties, type MonitorResult, type PropertyFinding, type SystemInvariant } from '../../verify/index.js';
import type { ServiceViews } from '../reconcile/check-deps.js';
import type { InventoryShared } from '../services/inventory-decider.js';
import { orderInvariants } from '../system/order-properties.js';
import { readLiveOrders, type OrderMachineShape } from './live-orders.js';

export const PROPERTY_ALERT = 'property-violated';
/** The alert's saga id for a system-wide property (no single order breaks it). */
export const SYSTEM_SUBJECT = 'system';

export interface PropertyMonitorOptions {
  readonly orders: { readonly db: Queryable; readonly machine: OrderMachineShape };
  readonly views: ServiceViews;
  /** An order is quiet once final and unchanged this long (default 60 s, the reconciler's grace). */
  readonly graceMs?: number;
  /** The invariants to evaluate, given the stock table's initial stock (default: the shop's own, as the checker proves them). */
  readonly invariants?: (initialStock: InventoryShared) => readonly SystemInvariant[];
  readonly metrics?: OrdoMetrics;
  readonly log?: Logger;
}

export interface PropertyMonitor {
  /** One round: read the live state, evaluate, raise (and resolve) alerts, set the gauge. */
  run(): Promise<MonitorResult>;
  /** The round as a reconciler check (it corrects nothing: a broken invariant needs a person). */
  readonly check: ReconcilerCheck;
}

/**
 * The runtime monitor: the shop's system invariants — the same data the checker proves
 * and the exports hand to SPIN and TLC — evaluated on the services' real databases. A
 * violation raises an alert naming the property (`ordo_saga_alerts`, kind
 * `property-violated`, shown on the dashboard), sets `ordo_property_violations{property}`
 * and logs an error; an alert is resolved by the first round that finds its property
 * holding again for its order.
 */
export function createPropertyMonitor(o: PropertyMonitorOptions): PropertyMonitor {
  const graceMs = o.graceMs ?? 60_000;
  const invariants = o.invariants ?? ((initial: InventoryShared) => orderInvariants(initial, 'CANCELED'));
  const db = o.orders.db;

  async function raise(f: PropertyFinding): Promise<void> {
    const subject = f.subject ?? SYSTEM_SUBJECT;
    const detail = { property: f.property, description: f.description, scope: f.scope, ...(f.formula ? { formula: f.formula } : {}) };
    const r = await db.query(
      `INSERT INTO ordo_saga_alerts (saga_id, kind, detail)
       SELECT $1, $2, $3::text::jsonb
        WHERE NOT EXISTS (SELECT 1 FROM ordo_saga_alerts WHERE saga_id = $1 AND kind = $2 AND detail->>'property' = $4 AND resolved_at IS NULL)`,
      [subject, PROPERTY_ALERT, JSON.stringify(detail), f.property],
    );
    if ((r.rowCount ?? 0) === 0) return;
    o.metrics?.alerts.inc({ kind: PROPERTY_ALERT });
    o.log?.error({ property: f.property, subject, formula: f.formula }, `property ${f.property} violated${f.subject ? ` by order ${f.subject}` : ''}: ${f.description}`);
  }

  async function run(): Promise<MonitorResult> {
    const live = await readLiveOrders(o.orders, o.views, graceMs);
    const result = monitorProperties(invariants(live.initial), live.snapshot);
    for (const f of result.findings) await raise(f);
    for (const r of result.reports) {
      if (r.skipped) continue;
      o.metrics?.propertyViolations.set({ property: r.property }, r.violations);
      const still = result.findings.filter((f) => f.property === r.property).map((f) => f.subject ?? SYSTEM_SUBJECT);
      await db.query(`UPDATE ordo_saga_alerts SET resolved_at = now() WHERE kind = $1 AND detail->>'property' = $2 AND resolved_at IS NULL AND NOT (saga_id = ANY($3::text[]))`, [PROPERTY_ALERT, r.property, still]);
    }
    return result;
  }

  return { run, check: { name: 'system-properties', find: async () => (await run(), []) } };
}
