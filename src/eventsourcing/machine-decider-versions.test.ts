import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { migrateSnapshot, setup, start, transition, type Snapshot } from '../machine/index.js';
import { deciderFromMachine, MIGRATED, migrationData, ReplayMismatchError, START, transitionData, TRANSITION, type MachineRecord } from './index.js';

const flow = setup({ context: z.object({ n: z.number() }), events: { Go: z.object({}), Finish: z.object({}) } });
const v1 = flow.createMachine({ id: 'flow', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { on: { Finish: 'C' } }, C: { type: 'final' } } });
/** v2 puts a review between A and B. */
const v2 = flow.createMachine({ id: 'flow', version: 2, initial: 'A', states: { A: { on: { Go: 'REVIEW' } }, REVIEW: { on: { Finish: 'B' } }, B: { on: { Finish: 'C' } }, C: { type: 'final' } } });
const toV2 = { machine: 'flow', from: 1, to: 2, states: { A: 'A', B: 'B', C: 'C' } };

const rec = (type: string, data: unknown, version: number) => ({ type, data, metadata: { kind: 'timeline', machine: 'flow', machineVersion: version } }) as unknown as MachineRecord;

/** A stream as the saga runtime writes it: started and moved on v1, migrated, moved on under v2. */
function stream(): MachineRecord[] {
  const s0 = start(v1, { n: 1 });
  const out = [rec(TRANSITION, transitionData(null, { type: START, context: s0.snapshot.context } as { type: string }, s0), 1)];
  const go = transition(v1, s0.snapshot, { type: 'Go' });
  out.push(rec(TRANSITION, transitionData(s0.snapshot, { type: 'Go' }, go), 1));
  const moved = migrateSnapshot(toV2, v1, v2, go.snapshot as Snapshot);
  out.push(rec(MIGRATED, migrationData(go.snapshot, moved, 'await'), 2));
  const fin = transition(v2, moved.snapshot, { type: 'Finish' });
  out.push(rec(TRANSITION, transitionData(moved.snapshot, { type: 'Finish' }, fin), 2));
  return out;
}

describe('a machine decider replays a stream across versions of its machine', () => {
  it('folds each record under the version the instance was on, and takes a migration record as it stands', () => {
    const d = deciderFromMachine(v2, { versions: [v1] });
    const folded = stream().reduce(d.evolve, d.initialState());
    expect(folded).toMatchObject({ machine: 'flow', version: 2, state: 'C' });
    // Deciding on a v1 instance uses v1's rules; on the migrated one, v2's.
    const onV1 = stream().slice(0, 1).reduce(d.evolve, d.initialState());
    expect(d.decide({ type: 'Go' }, onV1)).toMatchObject([{ data: { to: 'B' }, metadata: { machineVersion: 1 } }]);
  });

  it('(mutant) without the older version the v1 history does not replay', () => {
    const d = deciderFromMachine(v2);
    expect(() => stream().reduce(d.evolve, d.initialState())).toThrow(ReplayMismatchError);
  });
});
