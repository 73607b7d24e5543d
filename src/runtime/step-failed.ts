import { z } from 'zod';

/**
 * How a service says a step (or compensation) command did not work, as opposed to a
 * business answer like InventoryInsufficient (which is an ordinary machine event).
 * The ENGINE handles it, not the machine: a retryable failure is resent with backoff
 * until the attempts run out; a non-retryable one (or running out) takes the step's
 * failure transition at once.
 */
export const STEP_FAILED = 'ordo.step.failed';

export const StepFailedPayload = z.object({
  step: z.string().min(1),
  /** True when it was the step's compensation that failed. */
  compensation: z.boolean().default(false),
  /**
   * The `metadata.attempt` of the command this answers. Only an answer to the latest send
   * counts: an older send's failure says nothing about the newer one (which may have worked).
   */
  attempt: z.number().int().positive(),
  retryable: z.boolean(),
  reason: z.string().default('unspecified'),
});
export type StepFailedPayload = z.input<typeof StepFailedPayload>;
