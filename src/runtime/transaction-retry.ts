import { OrdoError } from '../machine/index.js';

/** PostgreSQL errors that mean "run the whole transaction again": serialization failure, deadlock. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetryableConflict(err: unknown): boolean {
  if (err instanceof OrdoError) return err.retryable;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * Runs a transaction, and runs it again (fresh: reloading everything) when it lost a
 * race with another writer — a revision or stream-version conflict, a deadlock. `run` gets
 * the attempt's number (1 first).
 */
export async function withConflictRetry<T>(run: (attempt: number) => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run(i);
    } catch (err) {
      if (i >= attempts || !isRetryableConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50, i * 2 * Math.random())));
    }
  }
}
