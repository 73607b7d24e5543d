import type { Logger, OrdoMetrics } from '../../observe/index.js';
import type { ReconcilerCheck } from '../../runtime/index.js';
import type { Queryable } from '../../store/index.js';
import { monitorProperties, type LiveKey, type MonitorResult, type PropertyFinding, type SystemInvariant } from '../../verify/index.js';
import type { ServiceViews } from '../reconcile/check-deps.js';
import type { InventoryShared } from '../services/inventory-decider.js';
import { readStock } from '../services/inventory-service.js';
import { orderInvariants } from '../system/order-properties.js';
import { initialStockOf, keysOf, readLiveOrders, type OrderMachineShape } from './live-orders.js';
import { inFlight, instancesOf, moreThan, newlyQuiet, QUIET_START, sweepQuiet, type QuietCursor } from './quiet-keys.js';

export const PROPERTY_ALERT = 'property-violated';
/** Orders in flight are counted up to this many (by index) to say why system-wide properties wait. */
const IN_FLIGHT_COUNTED = 10_000;
/** The alert's saga id for a system-wide property (no single order breaks it). */
export const SYSTEM_SUBJECT = 'system';

export interface PropertyMonitorOptions {
  readonly orders: { readonly db: Queryable; readonly machine: OrderMachineShape };
  readonly views: ServiceViews;
  /** An order is quiet once final and unchanged this long (default 60 s, the reconciler's grace). */
  readonly graceMs?: number;
  /** The invariants to evaluate, given the stock table's initial stock (default: the shop's own, as the checker proves them). */
  readonly invariants?: (initialStock: InventoryShared) => readonly SystemInvariant[];
  /** Most orders that became quiet judged in one round (default 5,000); the rest wait for the next rounds, oldest first. */
  readonly newlyQuietPerRound?: number;
  /** Orders judged again per round by the rolling sweep over every kept order (default 1,000). */
  readonly sweepPerRound?: number;
  /**
   * System-wide properties are judged on a full read, when nothing is in flight; above this
   * many orders that read is not made (default 100,000) and they are reported skipped.
   */
  readonly systemMaxKeys?: number;
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
 * (the property's open alerts) and logs an error; an alert is resolved by the first round
 * that finds its property holding again for its order.
 *
 * A round's cost does not grow with the orders kept. When nothing is in flight and there
 * are at most `systemMaxKeys` orders, it reads everything and judges every property. Else
 * it judges the per-key properties on the orders that became quiet since the last round
 * (each once, as it does), on the next slice of a rolling sweep over all kept orders, and
 * on the subjects of open alerts; system-wide properties are reported skipped, with why.
 */
export function createPropertyMonitor(o: PropertyMonitorOptions): PropertyMonitor {
  const graceMs = o.graceMs ?? 60_000;
  const newlyQuietPerRound = o.newlyQuietPerRound ?? 5_000;
  const sweepPerRound = o.sweepPerRound ?? 1_000;
  const systemMaxKeys = o.systemMaxKeys ?? 100_000;
  const invariants = o.invariants ?? ((initial: InventoryShared) => orderInvariants(initial, 'CANCELED'));
  const db = o.orders.db;
  const machineId = o.orders.machine.id;
  let quietCursor: QuietCursor = QUIET_START;
  let sweepCursor = '';

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

  const openAlerts = async () => (await db.query<{ saga_id: string; property: string }>(`SELECT saga_id, detail->>'property' AS property FROM ordo_saga_alerts WHERE kind = $1 AND resolved_at IS NULL`, [PROPERTY_ALERT])).rows;

  /** Everything, when nothing moves and it is small enough; else what changed, a slice of the rest and the open alerts' orders. */
  async function read(): Promise<{ keys: readonly LiveKey[]; shared: Record<string, unknown>; initial: InventoryShared; incomplete?: string; advance?: () => void }> {
    const moving = await inFlight(db, machineId, graceMs, IN_FLIGHT_COUNTED);
    if (moving === 0 && !(await moreThan(db, machineId, systemMaxKeys))) {
      const live = await readLiveOrders(o.orders, o.views, graceMs);
      return { ...live.snapshot, initial: live.initial };
    }
    const stock = await readStock(o.views.inventory);
    const fresh = await newlyQuiet(db, machineId, graceMs, quietCursor, newlyQuietPerRound);
    const swept = await sweepQuiet(db, machineId, graceMs, sweepCursor, sweepPerRound);
    const alerted = await instancesOf(db, machineId, graceMs, [...new Set((await openAlerts()).map((a) => a.saga_id))]);
    const rows = new Map([...fresh.rows, ...swept.rows, ...alerted].map((r) => [r.id, r]));
    return {
      keys: await keysOf(o.orders.machine, o.views, [...rows.values()]),
      shared: { inventory: stock.stock, payment: null, shipping: null },
      initial: initialStockOf(stock.initial),
      // The cursors move once the round has judged and alerted: a round that fails is read again.
      advance: () => {
        quietCursor = fresh.next;
        sweepCursor = swept.next;
      },
      incomplete: moving > 0 ? `${moving >= IN_FLIGHT_COUNTED ? `${IN_FLIGHT_COUNTED} or more` : moving} key(s) in flight` : `more than ${systemMaxKeys} keys: too many to read at once`,
    };
  }

  async function run(): Promise<MonitorResult> {
    const live = await read();
    const result = monitorProperties(invariants(live.initial), { keys: live.keys, shared: live.shared, ...(live.incomplete ? { incomplete: live.incomplete } : {}) });
    for (const f of result.findings) await raise(f);
    const judgedKeys = live.keys.filter((k) => k.quiet).map((k) => k.id);
    for (const r of result.reports) {
      if (r.skipped) continue;
      // Only what this round judged: an order not read this round keeps its alert.
      const judged = r.scope === 'system' ? [SYSTEM_SUBJECT] : judgedKeys;
      const still = result.findings.filter((f) => f.property === r.property).map((f) => f.subject ?? SYSTEM_SUBJECT);
      await db.query(`UPDATE ordo_saga_alerts SET resolved_at = now() WHERE kind = $1 AND detail->>'property' = $2 AND resolved_at IS NULL AND saga_id = ANY($3::text[]) AND NOT (saga_id = ANY($4::text[]))`, [PROPERTY_ALERT, r.property, judged, still]);
    }
    live.advance?.();
    if (o.metrics) {
      const open = await openAlerts();
      for (const r of result.reports) o.metrics.propertyViolations.set({ property: r.property }, open.filter((a) => a.property === r.property).length);
    }
    return result;
  }

  return { run, check: { name: 'system-properties', find: async () => (await run(), []) } };
}
