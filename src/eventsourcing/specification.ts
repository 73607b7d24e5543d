import assert from 'node:assert/strict';
import type { Decider } from './decider.js';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export interface DeciderThen<E> {
  /** The command decided exactly these events. */
  then(expected: readonly E[]): void;
  /** The command decided no events (accepted and ignored). */
  thenNothingHappened(): void;
  /** The command was refused with this error class; returns the error for further checks. */
  thenThrows<X extends Error>(errorClass: ErrorClass<X>, check?: (error: X) => boolean): X;
}

export interface DeciderGiven<C, E> {
  when(command: C): DeciderThen<E>;
}

/**
 * Given/when/then for a decider, runner-agnostic (node:assert):
 * `DeciderSpecification.for(decider).given(events).when(command).then(events)`.
 */
export const DeciderSpecification = {
  for<S, C, E>(decider: Decider<S, C, E>) {
    return {
      given(events: readonly E[] = []): DeciderGiven<C, E> {
        return {
          when(command: C): DeciderThen<E> {
            const run = (): readonly E[] => {
              let state = decider.initialState();
              for (const e of events) state = decider.evolve(state, e);
              return decider.decide(command, state);
            };
            return {
              then(expected) {
                assert.deepStrictEqual(run(), expected);
              },
              thenNothingHappened() {
                assert.deepStrictEqual(run(), []);
              },
              thenThrows<X extends Error>(errorClass: ErrorClass<X>, check?: (error: X) => boolean): X {
                let decided: readonly E[];
                try {
                  decided = run();
                } catch (err) {
                  assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${String(err)}`);
                  if (check) assert.ok(check(err), `${errorClass.name} did not pass the check: ${err.message}`);
                  return err;
                }
                assert.fail(`expected ${errorClass.name}, but the command decided ${JSON.stringify(decided)}`);
              },
            };
          },
        };
      },
    };
  },
};
