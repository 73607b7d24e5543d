import { preparedStatement, runStatements, type Queryable } from '../../store/index.js';
import { write } from '../staged-writes.js';
import type { ServiceEvent } from '../contracts.js';
import { runParticipant } from '../../verify/index.js';
import { paymentDecider, type ChargeStatus, type FraudVerdict, type PaymentCommand, type PaymentLocal, type ProviderAnswer } from './payment-decider.js';
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
  {
    // Order machine v2 asks the payment service to screen an order before it is charged.
    version: 11,
    name: 'fraud verdicts',
    sql: `
      -- The fraud rule's verdict per order, kept so a duplicate CheckFraud gets the same answer.
      CREATE TABLE IF NOT EXISTS fraud_checks (
        order_id text PRIMARY KEY,
        verdict text NOT NULL CHECK (verdict IN ('cleared', 'suspected')),
        reason text,
        checked_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

interface ChargeRow {
  status: ChargeStatus;
  payment_id: string | null;
  reason: string | null;
}

const CHARGE_COLUMNS = 'status, payment_id, reason';
type FraudRow = { verdict: FraudVerdict['verdict']; reason: string | null };
const fraudOf = (f: FraudRow): FraudVerdict => ({ verdict: f.verdict, ...(f.reason === null ? {} : { reason: f.reason }) });

/** The decider's local state from the order's charge row and fraud verdict (either may be missing). */
function chargeOf(c: ChargeRow | undefined, f: FraudVerdict | undefined): PaymentLocal {
  const fraud = f ? { fraud: f } : {};
  if (!c) return f ? { status: 'screened', captures: 0, ...fraud } : undefined;
  // The table keeps no capture count: a charge with a payment id (or never answered) was captured once.
  const captures = c.payment_id !== null || c.status === 'no-answer' ? 1 : 0;
  return { status: c.status, captures, ...(c.payment_id === null ? {} : { paymentId: c.payment_id }), ...(c.reason === null ? {} : { reason: c.reason }), ...fraud };
}

/** The order's charge (locked) and fraud verdict, in one round trip. */
async function loadCharge(tx: Queryable, orderId: string): Promise<PaymentLocal> {
  const [charges, frauds] = await runStatements(tx, [
    { sql: preparedStatement(`SELECT ${CHARGE_COLUMNS} FROM charges WHERE order_id = $1 FOR UPDATE`), params: [orderId] },
    { sql: preparedStatement('SELECT verdict, reason FROM fraud_checks WHERE order_id = $1'), params: [orderId] },
  ]);
  const c = charges?.rows[0] as ChargeRow | undefined;
  const f = frauds?.rows[0] as FraudRow | undefined;
  return chargeOf(c, f && fraudOf(f));
}

/** Every charge of these orders as the decider sees it (the loader's mapping, without locks): for the runtime property monitor. */
export async function readCharges(q: Queryable, orderIds: readonly string[]): Promise<Map<string, PaymentLocal>> {
  const ids = [[...orderIds]];
  const charges = new Map((await q.query<ChargeRow & { order_id: string }>(`SELECT order_id, ${CHARGE_COLUMNS} FROM charges WHERE order_id = ANY($1::text[])`, ids)).rows.map((r) => [r.order_id, r]));
  const frauds = new Map((await q.query<FraudRow & { order_id: string }>('SELECT order_id, verdict, reason FROM fraud_checks WHERE order_id = ANY($1::text[])', ids)).rows.map((r) => [r.order_id, fraudOf(r)]));
  return new Map([...new Set([...charges.keys(), ...frauds.keys()])].map((id) => [id, chargeOf(charges.get(id), frauds.get(id))]));
}

const charge = (l: PaymentLocal): l is NonNullable<PaymentLocal> & { status: ChargeStatus } => l !== undefined && l.status !== 'screened';

/** Runs the payment decider with the provider's answer in the caller's transaction; SQL only loads and stores the charge. */
async function handle(tx: Queryable, command: PaymentCommand, answer: ProviderAnswer, customerId = '', amount = 0): Promise<ServiceEvent[]> {
  const orderId = command.payload.orderId;
  const local = await loadCharge(tx, orderId);
  const { state, answers } = runParticipant(paymentDecider, command, { local, shared: null }, answer);
  const next = state.local;
  if (next?.fraud && !local?.fraud) await write(tx, preparedStatement('INSERT INTO fraud_checks (order_id, verdict, reason) VALUES ($1, $2, $3)'), [orderId, next.fraud.verdict, next.fraud.reason ?? null]);
  if (charge(next) && !charge(local)) {
    await write(tx, preparedStatement('INSERT INTO charges (order_id, customer_id, amount, status, payment_id, reason) VALUES ($1, $2, $3, $4, $5, $6)'), [orderId, customerId, amount, next.status, next.paymentId ?? null, next.reason ?? null]);
  } else if (charge(next) && charge(local) && (next.status !== local.status || next.reason !== local.reason)) {
    await write(tx, preparedStatement('UPDATE charges SET status = $2, reason = $3, updated_at = now() WHERE order_id = $1'), [orderId, next.status, next.reason ?? null]);
  }
  return answers as ServiceEvent[];
}

/** Records the provider's answer to a capture and reports it (nothing when it never answered). */
export function recordCapture(tx: Queryable, input: { orderId: string; customerId: string; amount: number }, outcome: CaptureOutcome): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'ProcessPayment', payload: input }, outcome, input.customerId, input.amount);
}

/** Screens an order with the fraud rule (`flagged`: what the rule said) and answers FraudCleared or FraudSuspected; a duplicate gets the kept verdict. */
export function recordFraudCheck(tx: Queryable, input: { orderId: string; customerId: string; amount: number }, flagged: boolean): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'CheckFraud', payload: input }, flagged ? { kind: 'flagged', reason: 'the fraud rule flags the order' } : { kind: 'clean' });
}

export function recordRefund(tx: Queryable, orderId: string, outcome: RefundOutcome): Promise<ServiceEvent[]> {
  return handle(tx, { type: 'RefundPayment', payload: { orderId } }, outcome);
}
