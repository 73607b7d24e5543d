import type { Queryable } from '../../store/index.js';
import { chance, sleep, type SimulationOptions } from '../simulation.js';

/** A transient provider failure: the message is redelivered and the call retried. */
export class ProviderUnavailableError extends Error {
  readonly code = 'PROVIDER_UNAVAILABLE';
  readonly retryable = true;
}

export type CaptureOutcome = { kind: 'captured'; paymentId: string } | { kind: 'declined'; reason: string } | { kind: 'no-answer' };
export type RefundOutcome = { kind: 'refunded' } | { kind: 'failed'; reason: string };

export const providerMigrations = [
  {
    version: 100,
    name: 'simulated provider ledger',
    sql: `
      -- The simulated card provider's own books. It is "outside" the payment service:
      -- written in its own statements, never inside the service's transaction.
      -- The unique key is the idempotency key: a retried capture finds the first one.
      CREATE TABLE IF NOT EXISTS provider_ledger (
        idempotency_key text PRIMARY KEY,
        amount integer NOT NULL,
        status text NOT NULL CHECK (status IN ('captured', 'declined', 'refunded', 'voided')),
        captures integer NOT NULL DEFAULT 0,
        refunds integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 110,
    name: 'ledger amounts are 64-bit',
    sql: `ALTER TABLE provider_ledger ALTER COLUMN amount TYPE bigint;`,
  },
];

/**
 * A card provider with the failure modes of a real one, keyed by idempotency key
 * (the order id) so a retry never charges twice.
 */
export class SimulatedPaymentProvider {
  constructor(
    private readonly db: Queryable,
    private readonly sim: SimulationOptions,
  ) {}

  async capture(key: string, amount: number, attempt: number): Promise<CaptureOutcome> {
    if (this.sim.latencyMs > 0) await sleep(this.sim.latencyMs);
    if (chance(this.sim.neverAnswersRate, this.sim.seed, 'never', key)) return { kind: 'no-answer' };
    if (chance(this.sim.errorRate, this.sim.seed, 'error', key, attempt)) throw new ProviderUnavailableError(`provider unavailable (attempt ${attempt})`);
    const declined = chance(this.sim.declineRate, this.sim.seed, 'decline', key);
    await this.db.query(
      `INSERT INTO provider_ledger (idempotency_key, amount, status, captures) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING`,
      [key, amount, declined ? 'declined' : 'captured', declined ? 0 : 1],
    );
    const row = (await this.db.query<{ status: string }>('SELECT status FROM provider_ledger WHERE idempotency_key = $1', [key])).rows[0];
    if (row?.status === 'declined') return { kind: 'declined', reason: 'card declined by the provider' };
    if (row?.status === 'refunded' || row?.status === 'voided') return { kind: 'declined', reason: `payment already ${row.status}` };
    return { kind: 'captured', paymentId: `pay_${key}` };
  }

  /** Refunds a capture, or voids a payment that was never captured; idempotent. */
  async refund(key: string, attempt: number): Promise<RefundOutcome> {
    if (this.sim.latencyMs > 0) await sleep(this.sim.latencyMs);
    if (chance(this.sim.refundFailureRate, this.sim.seed, 'refund-fails', key)) return { kind: 'failed', reason: 'the provider refuses the refund' };
    if (chance(this.sim.errorRate, this.sim.seed, 'refund-error', key, attempt)) throw new ProviderUnavailableError(`provider unavailable (attempt ${attempt})`);
    await this.db.query(
      `INSERT INTO provider_ledger (idempotency_key, amount, status) VALUES ($1, 0, 'voided')
       ON CONFLICT (idempotency_key) DO UPDATE SET
         status = CASE WHEN provider_ledger.status = 'captured' THEN 'refunded' ELSE provider_ledger.status END,
         refunds = provider_ledger.refunds + CASE WHEN provider_ledger.status = 'captured' THEN 1 ELSE 0 END,
         updated_at = now()`,
      [key],
    );
    return { kind: 'refunded' };
  }
}
