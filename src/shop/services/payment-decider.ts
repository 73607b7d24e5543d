import type { Participant, WorldChoice } from '../../verify/index.js';
import type { CaptureOutcome, RefundOutcome } from './payment-provider.js';

export type ChargeStatus = 'approved' | 'declined' | 'no-answer' | 'refunded' | 'refund-failed';
/** The fraud rule's verdict on an order, kept so a duplicate CheckFraud gets the same answer. */
export interface FraudVerdict {
  readonly verdict: 'cleared' | 'suspected';
  readonly reason?: string;
}
export interface Charge {
  /** `screened`: no charge yet, only the fraud rule's verdict. */
  readonly status: ChargeStatus | 'screened';
  readonly fraud?: FraudVerdict;
  readonly paymentId?: string;
  readonly reason?: string;
  /** Captures the provider made for the order (the checker counts them; at most 3 are told apart). */
  readonly captures: number;
}
export type PaymentLocal = Charge | undefined;

export type PaymentCommand =
  | { readonly type: 'ProcessPayment'; readonly payload: { readonly orderId: string; readonly customerId: string; readonly amount: number } }
  | { readonly type: 'RefundPayment'; readonly payload: { readonly orderId: string } }
  | { readonly type: 'CheckFraud'; readonly payload: { readonly orderId: string; readonly customerId: string; readonly amount: number } };

export type PaymentEvent =
  | { readonly type: 'ChargeRecorded'; readonly payload: { readonly status: 'approved' | 'declined' | 'no-answer'; readonly paymentId?: string; readonly reason?: string; readonly captured: boolean } }
  | { readonly type: 'RefundRecorded'; readonly payload: { readonly ok: boolean; readonly reason?: string } }
  | { readonly type: 'FraudChecked'; readonly payload: FraudVerdict }
  | { readonly type: 'FraudCleared'; readonly payload: { readonly orderId: string } }
  | { readonly type: 'FraudSuspected'; readonly payload: { readonly orderId: string; readonly reason: string } }
  | { readonly type: 'PaymentApproved'; readonly payload: { readonly orderId: string; readonly paymentId: string } }
  | { readonly type: 'PaymentRefused'; readonly payload: { readonly orderId: string; readonly reason: string } }
  | { readonly type: 'PaymentRefunded'; readonly payload: { readonly orderId: string } }
  | { readonly type: 'RefundFailed'; readonly payload: { readonly orderId: string; readonly reason: string } };

/** What the fraud rule says about an order (the world's choice in the checker, a simulated chance in the service). */
export type FraudAnswer = { readonly kind: 'clean' } | { readonly kind: 'flagged'; readonly reason: string };
/** What the provider said: its answer to a capture or to a refund (or the fraud rule's). */
export type ProviderAnswer = CaptureOutcome | RefundOutcome | FraudAnswer;

const hasCharge = (c: PaymentLocal): c is Charge => c !== undefined && c.status !== 'screened';

function fraudAnswer(orderId: string, f: FraudVerdict): PaymentEvent {
  return f.verdict === 'cleared' ? { type: 'FraudCleared', payload: { orderId } } : { type: 'FraudSuspected', payload: { orderId, reason: f.reason ?? 'suspected' } };
}

/** The fraud rule as a decision: the first check decides (the world's answer), a duplicate is answered from the kept verdict. */
function decideFraud(orderId: string, local: PaymentLocal, answer: ProviderAnswer): PaymentEvent[] {
  if (local?.fraud) return [fraudAnswer(orderId, local.fraud)];
  const verdict: FraudVerdict = answer.kind === 'flagged' ? { verdict: 'suspected', reason: answer.reason } : { verdict: 'cleared' };
  return [{ type: 'FraudChecked', payload: verdict }, fraudAnswer(orderId, verdict)];
}

function replay(orderId: string, c: Charge): PaymentEvent[] {
  if (c.status === 'approved') return [{ type: 'PaymentApproved', payload: { orderId, paymentId: c.paymentId ?? '' } }];
  if (c.status === 'declined') return [{ type: 'PaymentRefused', payload: { orderId, reason: c.reason ?? 'declined' } }];
  return [];
}

const captureChoices: readonly WorldChoice<ProviderAnswer>[] = [
  { value: { kind: 'captured', paymentId: 'pay-1' } },
  { fault: 'decline', value: { kind: 'declined', reason: 'card declined' }, description: 'the provider declines the card' },
  { fault: 'provider', value: { kind: 'no-answer' }, description: 'the provider captures but its answer never comes back' },
];
const fraudChoices: readonly WorldChoice<ProviderAnswer>[] = [
  { value: { kind: 'clean' } },
  { fault: 'fraud', value: { kind: 'flagged', reason: 'the rule flags the order' }, description: 'the rule flags the order' },
];
const refundChoices: readonly WorldChoice<ProviderAnswer>[] = [
  { value: { kind: 'refunded' } },
  { fault: 'refundfail', value: { kind: 'failed', reason: 'refund refused by the provider' }, description: 'the provider refuses the refund' },
];

/**
 * Builds the payment decider; `idempotent: false` is the broken variant that captures again on a duplicate.
 * `fraudCheck: false` leaves out the fraud rule's choice (a system whose machine never sends CheckFraud).
 */
export function paymentDeciderWith(opts: { idempotent: boolean; fraudCheck?: boolean }): Participant<PaymentLocal, null, ProviderAnswer, PaymentCommand, PaymentEvent> {
  return {
    name: 'payment',
    initialLocal: () => undefined,
    internal: ['ChargeRecorded', 'RefundRecorded', 'FraudChecked'],
    choices: { ProcessPayment: captureChoices, RefundPayment: refundChoices, ...(opts.fraudCheck === false ? {} : { CheckFraud: fraudChoices }) },
    decide(command, { local }, answer): PaymentEvent[] {
      const { orderId } = command.payload;
      if (command.type === 'CheckFraud') return decideFraud(orderId, local, answer);
      if (command.type === 'ProcessPayment') {
        if (hasCharge(local)) {
          if (!opts.idempotent && local.status === 'approved') return [{ type: 'ChargeRecorded', payload: { status: 'approved', ...(local.paymentId ? { paymentId: local.paymentId } : {}), captured: true } }, ...replay(orderId, local)];
          return replay(orderId, local);
        }
        if (answer.kind === 'captured') return [{ type: 'ChargeRecorded', payload: { status: 'approved', paymentId: answer.paymentId, captured: true } }, { type: 'PaymentApproved', payload: { orderId, paymentId: answer.paymentId } }];
        if (answer.kind === 'declined') return [{ type: 'ChargeRecorded', payload: { status: 'declined', reason: answer.reason, captured: false } }, { type: 'PaymentRefused', payload: { orderId, reason: answer.reason } }];
        return [{ type: 'ChargeRecorded', payload: { status: 'no-answer', reason: 'the provider never answered', captured: true } }];
      }
      if (answer.kind === 'failed') return [{ type: 'RefundRecorded', payload: { ok: false, reason: answer.reason } }, { type: 'RefundFailed', payload: { orderId, reason: answer.reason } }];
      return [{ type: 'RefundRecorded', payload: { ok: true } }, { type: 'PaymentRefunded', payload: { orderId } }];
    },
    evolve(state, event) {
      const { local } = state;
      const fraud = local?.fraud ? { fraud: local.fraud } : {};
      if (event.type === 'FraudChecked') return { ...state, local: local ? { ...local, fraud: event.payload } : { status: 'screened', captures: 0, fraud: event.payload } };
      if (event.type === 'ChargeRecorded') {
        const p = event.payload;
        const captures = Math.min(3, (local?.captures ?? 0) + (p.captured ? 1 : 0));
        return { ...state, local: { status: p.status, ...(p.paymentId ? { paymentId: p.paymentId } : {}), ...(p.reason ? { reason: p.reason } : {}), captures, ...fraud } };
      }
      if (event.type === 'RefundRecorded') {
        if (!event.payload.ok) return hasCharge(local) ? { ...state, local: { ...local, status: 'refund-failed', ...(event.payload.reason ? { reason: event.payload.reason } : {}) } } : state;
        // No charge yet: a void, so a late capture is answered from this row.
        return { ...state, local: hasCharge(local) ? { ...local, status: 'refunded' } : { status: 'refunded', reason: 'voided before any charge', captures: 0, ...fraud } };
      }
      return state;
    },
  };
}

export const paymentDecider = paymentDeciderWith({ idempotent: true });
