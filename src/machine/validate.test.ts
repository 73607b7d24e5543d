import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MachineDefinitionError, type DefinitionViolation } from './errors.js';
import { setup } from './setup.js';

const { createMachine } = setup({
  context: z.object({}),
  events: { Go: z.object({}), Stop: z.object({}) },
  guards: { never: () => false },
});

function violations(build: () => unknown): DefinitionViolation[] {
  try {
    build();
  } catch (e) {
    if (e instanceof MachineDefinitionError) return [...e.violations];
    throw e;
  }
  return [];
}

describe('definition validation', () => {
  it('accepts a sound machine', () => {
    expect(violations(() => createMachine({ id: 'ok', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { type: 'final' } } }))).toEqual([]);
  });

  it('finds an unreachable state', () => {
    const v = violations(() => createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { type: 'final' }, ISLAND: { on: { Go: 'B' } } } }));
    expect(v).toEqual([{ code: 'UNREACHABLE', state: 'ISLAND', message: 'state ISLAND is unreachable from A' }]);
  });

  it('finds a dead end: a non-final state that cannot reach a final state', () => {
    const v = violations(() =>
      createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'B', Stop: 'DONE' } }, B: { on: { Go: 'C' } }, C: { on: { Go: 'B' } }, DONE: { type: 'final' } } }),
    );
    expect(v.map((x) => [x.code, x.state])).toEqual([
      ['DEAD_END', 'B'],
      ['DEAD_END', 'C'],
    ]);
  });

  it('finds an unknown target (as a machine loaded from untyped data would have)', () => {
    const v = violations(() =>
      createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'NOWHERE' as 'A' } }, B: { type: 'final' } } } as never),
    );
    expect(v.map((x) => x.code)).toContain('UNKNOWN_TARGET');
    expect(v.find((x) => x.code === 'UNKNOWN_TARGET')?.message).toBe('A --Go--> NOWHERE: target state does not exist');
  });

  it('rejects a final state with exits, and a machine without a final state', () => {
    const exits = violations(() => createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { type: 'final', on: { Go: 'A' } } } }));
    expect(exits).toEqual([{ code: 'FINAL_HAS_EXITS', state: 'B', message: 'final state B has outgoing transitions or work' }]);
    const noFinal = violations(() => createMachine({ id: 'm', version: 1, initial: 'A', states: { A: { on: { Go: 'A' } } } }));
    expect(noFinal.map((x) => x.code)).toEqual(['NO_FINAL_STATE', 'DEAD_END']);
  });

  it('lists every violation at once in the error message', () => {
    let err: unknown;
    try {
      createMachine({ id: 'many', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { on: { Go: 'A' } }, X: { type: 'final' } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MachineDefinitionError);
    const msg = (err as Error).message;
    expect(msg).toContain('state X is unreachable from A');
    expect(msg).toContain('state A cannot reach a final state');
    expect(msg).toContain('state B cannot reach a final state');
  });

  it('catches unknown guards, steps and delays in untyped definitions', () => {
    const v = violations(() =>
      createMachine({
        id: 'm',
        version: 1,
        initial: 'A',
        states: { A: { invoke: 'ghostStep', on: { Go: { target: 'B', guard: 'ghost' } }, after: { ghostDelay: 'B' } }, B: { type: 'final' } },
      } as never),
    );
    expect(v.map((x) => x.code).sort()).toEqual(['UNKNOWN_DELAY', 'UNKNOWN_GUARD', 'UNKNOWN_STEP']);
  });
});
