import { InvalidEngineOptionError } from './errors.js';

/**
 * How a saga step (or compensation) command is retried after a retryable failure or
 * when no reply arrives in time: exponential backoff with jitter, a cap on attempts.
 */
export interface RetryPolicy {
  /** Total sends of one command, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** 0..1: the share of each delay that is randomised (0.5 → between 50% and 100% of it). */
  readonly jitter: number;
  /**
   * Resend the command if no reply arrived after this long (ms); counts as a retryable
   * failure. Omit to rely only on StepFailed replies and the machine's own timeouts.
   */
  readonly replyTimeoutMs?: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 30_000, factor: 2, jitter: 0.5 };

export function checkRetryPolicy(p: RetryPolicy): RetryPolicy {
  const bad = (field: string, why: string): never => {
    throw new InvalidEngineOptionError(`retry.${field}`, why);
  };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) bad('maxAttempts', 'must be an integer ≥ 1');
  if (!(p.initialDelayMs >= 0)) bad('initialDelayMs', 'must be ≥ 0');
  if (!(p.maxDelayMs >= p.initialDelayMs)) bad('maxDelayMs', 'must be ≥ initialDelayMs');
  if (!(p.factor >= 1)) bad('factor', 'must be ≥ 1');
  if (!(p.jitter >= 0 && p.jitter <= 1)) bad('jitter', 'must be within 0..1');
  if (p.replyTimeoutMs !== undefined && !(p.replyTimeoutMs > 0)) bad('replyTimeoutMs', 'must be > 0');
  return p;
}

/** Delay before send number `attempt + 1`, after `attempt` sends failed. `random` is in [0, 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter * random()));
}
