import type { EffectSpec, Machine, Snapshot, StepRecord } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

export interface PendingCompensation {
  readonly step: string;
  /** `done`: the step's reply arrived; `pending`: sent, outcome unknown (compensations are idempotent, so undo it too). */
  readonly status: StepRecord['status'];
  readonly compensation: EffectSpec<unknown, unknown>;
}

/**
 * What must be undone from this snapshot, in the order to undo it: the started
 * steps that declare a compensation, newest first.
 */
export function compensationPlan(machine: AnyMachine, snapshot: Pick<Snapshot, 'steps'>): PendingCompensation[] {
  const plan: PendingCompensation[] = [];
  for (let i = snapshot.steps.length - 1; i >= 0; i--) {
    const rec = snapshot.steps[i];
    const compensation = rec ? machine.steps[rec.name]?.compensation : undefined;
    if (rec && compensation) plan.push({ step: rec.name, status: rec.status, compensation });
  }
  return plan;
}

/** The step whose compensation comes next, if any. */
export function nextCompensation(machine: AnyMachine, snapshot: Pick<Snapshot, 'steps'>): string | undefined {
  return compensationPlan(machine, snapshot)[0]?.step;
}
