import type { Statement } from '../store/index.js';

/** The ledger rows of the (service, order) pairs given: one statement, for any number of pairs. */
export function ledgerStatement(pairs: readonly (readonly [service: string, orderId: string])[]): Statement {
  return {
    sql: `SELECT l.service, l.order_id, l.outcome FROM sim_ledger l
          JOIN unnest($1::text[], $2::text[]) AS u(service, order_id) ON l.service = u.service AND l.order_id = u.order_id`,
    params: [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  };
}

/** The key of a (service, order) ledger pair in maps and sets. */
export const ledgerKey = (service: string, orderId: string) => `${service}\u0000${orderId}`;

/**
 * The simulated services' books as a batch of commands sees them: the ledger rows loaded
 * for the batch (`ledgerStatement`), updated in memory as each command decides, and the
 * side effects recorded; `statements()` writes all of it set-based (a handful of
 * statements whatever the batch size). A later command of the batch sees an earlier
 * one's decisions (a release after a reserve of the same order), as one-by-one handling would.
 */
export class SimulatedBooks {
  /** Outcome per (service, order) as loaded; a loaded pair without a row maps to undefined. */
  private readonly loaded = new Map<string, string | undefined>();
  private readonly current = new Map<string, { service: string; orderId: string; outcome: string | undefined }>();
  private readonly reservations: { orderId: string; reservationId: string; quantity: number }[] = [];
  private readonly releases: string[] = [];
  private readonly charges: { orderId: string; paymentId: string; amount: number }[] = [];
  private readonly refunds: string[] = [];
  private readonly shipments: { orderId: string; trackingNumber: string }[] = [];

  /** `pairs`: what was asked for; `rows`: what `ledgerStatement(pairs)` returned. */
  constructor(pairs: readonly (readonly [string, string])[], rows: readonly Record<string, unknown>[]) {
    for (const [service, orderId] of pairs) this.current.set(ledgerKey(service, orderId), { service, orderId, outcome: undefined });
    for (const r of rows) {
      const service = String(r['service']);
      const orderId = String(r['order_id']);
      this.current.set(ledgerKey(service, orderId), { service, orderId, outcome: String(r['outcome']) });
    }
    for (const [k, v] of this.current) this.loaded.set(k, v.outcome);
  }

  /** The ledger outcome of (service, order), as of the commands decided so far. */
  outcome(service: string, orderId: string): string | undefined {
    return this.entry(service, orderId).outcome;
  }

  setOutcome(service: string, orderId: string, outcome: string): void {
    this.entry(service, orderId).outcome = outcome;
  }

  private entry(service: string, orderId: string): { outcome: string | undefined } {
    const e = this.current.get(ledgerKey(service, orderId));
    if (!e) throw new Error(`sim_ledger (${service}, ${orderId}) was not loaded for this batch`);
    return e;
  }

  reserve(orderId: string, reservationId: string, quantity: number): void {
    this.reservations.push({ orderId, reservationId, quantity });
  }
  /** Records the release of a reservation; the quantity is the reservation's (written before it in `statements()`). */
  release(orderId: string): void {
    this.releases.push(orderId);
  }
  charge(orderId: string, paymentId: string, amount: number): void {
    this.charges.push({ orderId, paymentId, amount });
  }
  /** Records the refund of a charge; the amount is the charge's. */
  refund(orderId: string): void {
    this.refunds.push(orderId);
  }
  ship(orderId: string, trackingNumber: string): void {
    this.shipments.push({ orderId, trackingNumber });
  }

  /**
   * The writes, set-based: new ledger rows are inserted (a pair decided twice in the
   * batch, e.g. reserved then released, is inserted with its last outcome), changed
   * ones updated; then the side effects, each under its UNIQUE constraint, so doing one
   * twice still fails loudly. Releases and refunds read the quantity/amount from the
   * reservation/charge rows, which come earlier in the same statements.
   */
  statements(): Statement[] {
    const inserted: { service: string; orderId: string; outcome: string }[] = [];
    const updated: { service: string; orderId: string; outcome: string }[] = [];
    for (const [k, e] of this.current) {
      const before = this.loaded.get(k);
      if (e.outcome === undefined || e.outcome === before) continue;
      (before === undefined ? inserted : updated).push({ service: e.service, orderId: e.orderId, outcome: e.outcome });
    }
    const out: Statement[] = [];
    if (inserted.length > 0) {
      out.push({
        sql: 'INSERT INTO sim_ledger (service, order_id, outcome) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])',
        params: [inserted.map((e) => e.service), inserted.map((e) => e.orderId), inserted.map((e) => e.outcome)],
      });
    }
    if (updated.length > 0) {
      out.push({
        sql: `UPDATE sim_ledger l SET outcome = u.outcome FROM unnest($1::text[], $2::text[], $3::text[]) AS u(service, order_id, outcome)
              WHERE l.service = u.service AND l.order_id = u.order_id`,
        params: [updated.map((e) => e.service), updated.map((e) => e.orderId), updated.map((e) => e.outcome)],
      });
    }
    if (this.reservations.length > 0) {
      out.push({
        sql: 'INSERT INTO sim_reservations (order_id, reservation_id, quantity) SELECT * FROM unnest($1::text[], $2::text[], $3::integer[])',
        params: [this.reservations.map((r) => r.orderId), this.reservations.map((r) => r.reservationId), this.reservations.map((r) => r.quantity)],
      });
    }
    if (this.releases.length > 0) {
      out.push({
        sql: `INSERT INTO sim_releases (order_id, quantity)
              SELECT u.order_id, coalesce(r.quantity, 0) FROM unnest($1::text[]) WITH ORDINALITY AS u(order_id, n)
              LEFT JOIN sim_reservations r ON r.order_id = u.order_id ORDER BY u.n`,
        params: [this.releases],
      });
    }
    if (this.charges.length > 0) {
      out.push({
        sql: 'INSERT INTO sim_charges (order_id, payment_id, amount) SELECT * FROM unnest($1::text[], $2::text[], $3::integer[])',
        params: [this.charges.map((c) => c.orderId), this.charges.map((c) => c.paymentId), this.charges.map((c) => c.amount)],
      });
    }
    if (this.refunds.length > 0) {
      out.push({
        sql: `INSERT INTO sim_refunds (order_id, amount)
              SELECT u.order_id, coalesce(c.amount, 0) FROM unnest($1::text[]) WITH ORDINALITY AS u(order_id, n)
              LEFT JOIN sim_charges c ON c.order_id = u.order_id ORDER BY u.n`,
        params: [this.refunds],
      });
    }
    if (this.shipments.length > 0) {
      out.push({
        sql: 'INSERT INTO sim_shipments (order_id, tracking_number) SELECT * FROM unnest($1::text[], $2::text[])',
        params: [this.shipments.map((s) => s.orderId), this.shipments.map((s) => s.trackingNumber)],
      });
    }
    return out;
  }
}
