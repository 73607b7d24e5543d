import type { Participant, WorldChoice } from '../../verify/index.js';
import type { CaptureOutcome, RefundOutcome } from './payment-provider.js';

export type ChargeStatus = 'approved' | 'declined' | 'no-answer' | 'refunded' | 'refund-failed';
export interface Charge {
  readonly status: ChargeStatus;
  readonly paymentId?: string;
  readonly reason?: string;
  /** Captures the provider made for the order (the checker counts them; at most 3 are told apart). */
  readonly captures: number;
}
export type PaymentLocal = Charge | undefined;

export type PaymentCommand =
  | { readonly type: 'ProcessPayment'; readonly payload: { readonly orderId: string; readonly customerId: string; readonly amount: number } }
  | { readonly type: 'RefundPayment'; readonly payload: { readonly orderId: string } };

export type PaymentEvent =
  | { readonly type: 'ChargeRecorded'; readonly payload: { readonly status: 'approved' | 'declined' | 'no-answer'; readonly paymentId?: string; readonly reason?: string; readonly captured: boolean } }
  | { readonly type: 'RefundRecorded'; readonly payload: { readonly ok: boolean; readonly reason?: string } }
  | { readonly type: 'PaymentApproved'; readonly payload: { readonly orderId: string; readonly paymentId: string } }
  | { readonly type: 'PaymentRefused'; readonly payload: { readonly orderId: string; readonly reason: string } }
  | { readonly type: 'PaymentRefunded'; readonly payload: { readonly orderId: string } }
  | { readonly type: 'RefundFailed'; readonly payload: { readonly orderId: string; readonly reason: string } };

/** What the provider said: its answer to a capture or to a refund. */
export type ProviderAnswer = CaptureOutcome | RefundOutcome;

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
const refundChoices: readonly WorldChoice<ProviderAnswer>[] = [
  { value: { kind: 'refunded' } },
  { fault: 'refundfail', value: { kind: 'failed', reason: 'refund refused by the provider' }, description: 'the provider refuses the refund' },
];

/** Builds the payment decider; `idempotent: false` is the broken variant that captures again on a duplicate. */
export function paymentDeciderWith(opts: { idempotent: boolean }): Participant<PaymentLocal, null, ProviderAnswer, PaymentCommand, PaymentEvent> {
  return {
    name: 'payment',
    initialLocal: () => undefined,
    internal: ['ChargeRecorded', 'RefundRecorded'],
    choices: { ProcessPayment: captureChoices, RefundPayment: refundChoices },
    decide(command, { local }, answer): PaymentEvent[] {
      const { orderId } = command.payload;
      if (command.type === 'ProcessPayment') {
        if (local) {
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
      if (event.type === 'ChargeRecorded') {
        const p = event.payload;
        const captures = Math.min(3, (local?.captures ?? 0) + (p.captured ? 1 : 0));
        return { ...state, local: { status: p.status, ...(p.paymentId ? { paymentId: p.paymentId } : {}), ...(p.reason ? { reason: p.reason } : {}), captures } };
      }
      if (event.type === 'RefundRecorded') {
        if (!event.payload.ok) return local ? { ...state, local: { ...local, status: 'refund-failed', ...(event.payload.reason ? { reason: event.payload.reason } : {}) } } : state;
        // No charge yet: a void, so a late capture is answered from this row.
        return { ...state, local: local ? { ...local, status: 'refunded' } : { status: 'refunded', reason: 'voided before any charge', captures: 0 } };
      }
      return state;
    },
  };
}

export const paymentDecider = paymentDeciderWith({ idempotent: true });
