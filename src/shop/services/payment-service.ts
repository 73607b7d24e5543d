import type { Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import type { CaptureOutcome, RefundOutcome } from './payment-provider.js';

export const paymentMigrations = [
  {
    version: 1,
    name: 'charges',
    sql: `
      -- The payment service's view of each order's charge; the idempotency key is the order id.
      CREATE TABLE IF NOT EXISTS charges (
        order_id text PRIMARY KEY,
        customer_id text NOT NULL,
        amount integer NOT NULL,
        status text NOT NULL CHECK (status IN ('approved', 'declined', 'no-answer', 'refunded', 'refund-failed')),
        payment_id text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS charges_status ON charges (status);
    `,
  },
  {
    // 32 bits end at 21 474 836.47: an order of 100 000 units at 214.75 failed on every delivery.
    version: 10,
    name: 'amounts are 64-bit',
    sql: `ALTER TABLE charges ALTER COLUMN amount TYPE bigint;`,
  },
];

interface ChargeRow {
  status: string;
  payment_id: string | null;
  reason: string | null;
}

async function charge(tx: Queryable, orderId: string): Promise<ChargeRow | undefined> {
  return (await tx.query<ChargeRow>('SELECT status, payment_id, reason FROM charges WHERE order_id = $1 FOR UPDATE', [orderId])).rows[0];
}

function replay(orderId: string, c: ChargeRow): ServiceEvent[] {
  if (c.status === 'approved') return [{ type: 'PaymentApproved', payload: { orderId, paymentId: c.payment_id ?? '' } }];
  if (c.status === 'declined') return [{ type: 'PaymentRefused', payload: { orderId, reason: c.reason ?? 'declined' } }];
  return [];
}

/** Records the provider's answer to a capture and reports it (nothing when it never answered). */
export async function recordCapture(tx: Queryable, input: { orderId: string; customerId: string; amount: number }, outcome: CaptureOutcome): Promise<ServiceEvent[]> {
  const existing = await charge(tx, input.orderId);
  if (existing) return replay(input.orderId, existing);
  const { orderId } = input;
  const [status, paymentId, reason] =
    outcome.kind === 'captured' ? ['approved', outcome.paymentId, null] : outcome.kind === 'declined' ? ['declined', null, outcome.reason] : ['no-answer', null, 'the provider never answered'];
  await tx.query('INSERT INTO charges (order_id, customer_id, amount, status, payment_id, reason) VALUES ($1, $2, $3, $4, $5, $6)', [orderId, input.customerId, input.amount, status, paymentId, reason]);
  return replay(orderId, { status, payment_id: paymentId, reason });
}

export async function recordRefund(tx: Queryable, orderId: string, outcome: RefundOutcome): Promise<ServiceEvent[]> {
  const existing = await charge(tx, orderId);
  if (outcome.kind === 'failed') {
    if (existing) await tx.query(`UPDATE charges SET status = 'refund-failed', reason = $2, updated_at = now() WHERE order_id = $1`, [orderId, outcome.reason]);
    return [{ type: 'RefundFailed', payload: { orderId, reason: outcome.reason } }];
  }
  if (existing) await tx.query(`UPDATE charges SET status = 'refunded', updated_at = now() WHERE order_id = $1`, [orderId]);
  else await tx.query(`INSERT INTO charges (order_id, customer_id, amount, status, reason) VALUES ($1, '', 0, 'refunded', 'voided before any charge')`, [orderId]);
  return [{ type: 'PaymentRefunded', payload: { orderId } }];
}
