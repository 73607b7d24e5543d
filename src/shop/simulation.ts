import { createHash } from 'node:crypto';

/**
 * How badly the simulated outside world behaves. Decisions are derived from a
 * seed and a key (order id, attempt), so a run can be replayed and a retry of the
 * same request gets a fresh draw only where that is realistic (transient errors).
 */
export interface SimulationOptions {
  readonly seed: string;
  /** Payment provider declines the card (a final answer). */
  readonly declineRate: number;
  /** Payment provider fails transiently (the message is retried). */
  readonly errorRate: number;
  /** Payment provider never answers this order (the saga's timeout must act). */
  readonly neverAnswersRate: number;
  /** Provider latency in ms (each call). */
  readonly latencyMs: number;
  /** Refunds the provider refuses (compensation failure). */
  readonly refundFailureRate: number;
  /** Shipments that cannot be prepared after payment. */
  readonly shipmentFailureRate: number;
  /** Orders the payment service's fraud rule flags (order machine v2's check; default 0). */
  readonly fraudRate?: number;
  /** The simulated carrier confirms delivery by itself after this delay (ms); negative = never. */
  readonly deliveryDelayMs: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 'ordo',
  declineRate: 0.1,
  errorRate: 0.05,
  neverAnswersRate: 0.01,
  latencyMs: 0,
  refundFailureRate: 0,
  shipmentFailureRate: 0.03,
  deliveryDelayMs: 2000,
};

/** A number in [0, 1) that depends only on the seed and the parts. */
export function draw(seed: string, ...parts: readonly (string | number)[]): number {
  const h = createHash('sha256').update(seed).update('\0').update(parts.join('\0')).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

export function chance(rate: number, seed: string, ...parts: readonly (string | number)[]): boolean {
  return rate > 0 && draw(seed, ...parts) < rate;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
