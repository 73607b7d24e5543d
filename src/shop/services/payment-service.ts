import type { Queryable } from '../../store/index.js';
import type { ServiceEvent } from '../contracts.js';
import { runParticipant } from '../../verify/index.js';
import { paymentDecider, type ChargeStatus, type PaymentCommand, type PaymentLocal, type ProviderAnswer } from './payment-decider.js';
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
  status: ChargeStatus;
  payment_id: string | null;
  reason: string | null;
}

const CHARGE_COLUMNS = 'status, payment_id, reason';
function chargeOf(c: ChargeRow): PaymentLocal {
  // The table keeps no capture count: a charge with a payment id (or never answered) was captured once.
  const captures = c.payment_id !== null || c.status === 'no-answer' ? 1 : 0;
  return { status: c.status, captures, ...(c.payment_id === null ? {} : { paymentId: c.payment_id }), ...(c.reason === null ? {} : { reason: c.reason }) };
}

async function loadCharge(tx: Queryable, orderId: string): Promise<PaymentLocal> {
  const c = (await tx.query<ChargeRow>(`SELECT ${CHARGE_COLUMNS} FROM charges WHERE order_id = $1 FOR UPDATE`, [orderId])).rows[0];
  return c ? chargeOf(c) : undefined;
}

/** Every charge of these orders as the decider sees it (the loader's mapping, without locks): for the runtime property monitor. */
export async function readCharges(q: Queryable, orderIds: readonly string[]): Promise<Map<string, PaymentLocal>> {
  const r = await q.query<ChargeRow & { order_id: string }>(`SELECT order_id, ${CHARGE_COLUMNS} FROM charges WHERE order_id = ANY($1::text[])`, [[...orderIds]]);
  return new Map(r.rows.map((row) => [row.order_id, chargeOf(row)]));
}

/** Runs the payment decider with the provider's answer in the caller's transaction; SQL only loads and stores the charge. */
async function handle(tx: Queryable, command: PaymentCommand, answer: ProviderAnswer, customerId = '', amount = 0): Promise<ServiceEvent[]> {
  const orderId = command.payload.orderId;
  const local = await loadCharge(tx, orderId);
  const { state, answers } = runParticipant(paymentDecider, command, { local, shared: null }, answer);
  const next = state.local;
  if (next && !local) {
    await tx.query('INSERT INTO charges (order_id, customer_id, amount, status, payment_id, reason) VALUES ($1, $2, $3, $4, $5, $6)', [orderId, customerId, amount, next.status, next.paymentId ?? null, next.reason ?? null]);
  } else if (next && local && (next.status !== local.status || next.reason !== local.reason)) {
    await tx.query('UPDATE charges SET status = $2, reason = $3, updated_at = now() WHERE order_id = $1', [orderId, next.status, next.reason ?? null]);
  }
  return answers as ServiceEvent[];
}

/** Records the provider's answer to a capture and reports it (nothing when it never answered). */
export function recordCapture(tx: Queryable, input: { orderId: string; customerId: string; amount: number }, outcome: CaptureOutcome): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'ProcessPayment', payload: input }, outcome, input.customerId, input.amount);
}

export function recordRefund(tx: Queryable, orderId: string, outcome: RefundOutcome): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'RefundPayment', payload: { orderId } }, outcome);
}
