import type { Queryable } from '../store/index.js';

export interface OrderOutcomeReport {
  readonly total: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Everything that is wrong, one line each; empty when the run is sound. */
  readonly violations: readonly string[];
  /** Fingerprint of every order's end state and side effects, to compare two runs. */
  readonly fingerprint: Readonly<Record<string, string>>;
}

interface Row {
  id: string;
  state: string;
  status: string;
  stream_version: number;
  logged: string;
  reserved: boolean;
  released: boolean;
  charged: boolean;
  refunded: boolean;
  shipped: boolean;
  open_alerts: string;
}

/**
 * Checks the order sagas of a simulation run against what a shop owner needs:
 * every order finished (or parked in COMPENSATION_FAILED with an open alert), nothing
 * held or charged for a cancelled order, nothing delivered unpaid, the timeline complete,
 * every command handled and every reply received. Side effects cannot have happened twice:
 * each is a row under a UNIQUE constraint (a second one would have failed its transaction).
 */
export async function checkOrderOutcomes(q: Queryable, consumer = 'ordo-saga-engine'): Promise<OrderOutcomeReport> {
  const r = await q.query<Row>(`
    SELECT i.id, i.state, i.status, i.stream_version,
      (SELECT count(*) FROM ordo_messages m WHERE m.stream = i.machine_id || '-' || i.id)::text AS logged,
      EXISTS (SELECT 1 FROM sim_reservations x WHERE x.order_id = i.id) AS reserved,
      EXISTS (SELECT 1 FROM sim_releases x WHERE x.order_id = i.id) AS released,
      EXISTS (SELECT 1 FROM sim_charges x WHERE x.order_id = i.id) AS charged,
      EXISTS (SELECT 1 FROM sim_refunds x WHERE x.order_id = i.id) AS refunded,
      EXISTS (SELECT 1 FROM sim_shipments x WHERE x.order_id = i.id) AS shipped,
      (SELECT count(*) FROM ordo_saga_alerts a WHERE a.saga_id = i.id AND a.resolved_at IS NULL)::text AS open_alerts
    FROM ordo_saga_instances i WHERE i.machine_id = 'order' ORDER BY i.id`);
  const violations: string[] = [];
  const byState: Record<string, number> = {};
  const fingerprint: Record<string, string> = {};
  for (const o of r.rows) {
    byState[o.state] = (byState[o.state] ?? 0) + 1;
    fingerprint[o.id] = `${o.state} reserved=${o.reserved} released=${o.released} charged=${o.charged} refunded=${o.refunded} shipped=${o.shipped}`;
    const bad = (why: string) => violations.push(`${o.id} (${o.state}): ${why}`);
    if (Number(o.logged) !== Number(o.stream_version)) bad(`stream holds ${o.logged} messages, instance says ${o.stream_version}`);
    if (o.state === 'DELIVERED') {
      if (!o.reserved || !o.charged || !o.shipped) bad('delivered without reservation, charge and shipment');
      if (o.released || o.refunded) bad('delivered but released or refunded');
    } else if (o.state === 'CANCELED') {
      if (o.reserved && !o.released) bad('stock still reserved');
      if (o.charged && !o.refunded) bad('charged without refund');
      if (o.shipped) bad('shipped');
    } else if (o.state === 'COMPENSATION_FAILED') {
      if (Number(o.open_alerts) === 0) bad('parked without an open alert');
    } else {
      bad(`not finished (status ${o.status})`);
    }
  }
  const unhandled = await q.query<{ id: string }>(`
    SELECT m.id FROM ordo_messages m WHERE m.metadata->>'kind' = 'command'
      AND NOT EXISTS (SELECT 1 FROM sim_handled h WHERE h.message_id = m.id) LIMIT 20`);
  for (const u of unhandled.rows) violations.push(`command ${u.id} never reached its service`);
  const unreceived = await q.query<{ id: string }>(
    `SELECT rep->>'id' AS id FROM sim_handled h, jsonb_array_elements(h.replies) rep
      WHERE NOT EXISTS (SELECT 1 FROM ordo_inbox i WHERE i.consumer = $1 AND i.message_id = rep->>'id') LIMIT 20`,
    [consumer],
  );
  for (const u of unreceived.rows) violations.push(`reply ${u.id} never reached the engine`);
  return { total: r.rows.length, byState, violations, fingerprint };
}
