import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compensationPlan, nextCompensation } from './compensation.js';
import { setup } from './setup.js';
import { start, transition } from './transition.js';

// A three-step travel booking: flight, hotel, car; each compensable.
const booking = setup({
  context: z.object({ id: z.string() }),
  events: { Ok: z.object({}), Fail: z.object({}), Undone: z.object({}) },
  messages: { Book: z.object({ what: z.string() }), Cancel: z.object({ what: z.string() }) },
  guards: {},
});
const { send } = booking;
const step = (what: string) => ({ action: send('travel', 'Book', () => ({ what })), compensation: send('travel', 'Cancel', () => ({ what })) });

const travel = booking.createMachine({
  id: 'travel',
  version: 1,
  initial: 'FLIGHT',
  steps: { flight: step('flight'), hotel: step('hotel'), car: step('car') },
  states: {
    FLIGHT: { invoke: 'flight', on: { Ok: { target: 'HOTEL', completes: 'flight' }, Fail: { target: 'FAILED', fails: 'flight' } } },
    HOTEL: { invoke: 'hotel', on: { Ok: { target: 'CAR', completes: 'hotel' }, Fail: { target: 'UNDO_FLIGHT', fails: 'hotel' } } },
    CAR: { invoke: 'car', on: { Ok: { target: 'BOOKED', completes: 'car' }, Fail: { target: 'UNDO_CAR' } } },
    UNDO_CAR: { compensate: 'car', on: { Undone: { target: 'UNDO_HOTEL', compensated: 'car' } } },
    UNDO_HOTEL: { compensate: 'hotel', on: { Undone: { target: 'UNDO_FLIGHT', compensated: 'hotel' } } },
    UNDO_FLIGHT: { compensate: 'flight', on: { Undone: { target: 'FAILED', compensated: 'flight' } } },
    BOOKED: { type: 'final', on: {} },
    FAILED: { type: 'final' },
  },
});

describe('compensation plan', () => {
  const s0 = start(travel, { id: 't' }).snapshot;
  const s1 = transition(travel, s0, { type: 'Ok' }).snapshot; // flight done, hotel pending
  const s2 = transition(travel, s1, { type: 'Ok' }).snapshot; // hotel done, car pending

  it('lists started steps newest first, from any state', () => {
    expect(compensationPlan(travel, s0).map((p) => [p.step, p.status])).toEqual([['flight', 'pending']]);
    expect(compensationPlan(travel, s1).map((p) => [p.step, p.status])).toEqual([
      ['hotel', 'pending'],
      ['flight', 'done'],
    ]);
    expect(compensationPlan(travel, s2).map((p) => p.step)).toEqual(['car', 'hotel', 'flight']);
    expect(nextCompensation(travel, s2)).toBe('car');
  });

  it('drops a step whose failure says it never took effect', () => {
    const failed = transition(travel, s1, { type: 'Fail' }).snapshot;
    expect(compensationPlan(travel, failed).map((p) => p.step)).toEqual(['flight']);
  });

  it('runs compensations in reverse order of the plan and empties it', () => {
    const plan = compensationPlan(travel, s2).map((p) => `Cancel:${p.step}`);
    let r = transition(travel, s2, { type: 'Fail' }); // car outcome unknown: undo it too
    const sent: string[] = [];
    for (;;) {
      for (const e of r.effects) if (e.kind === 'send') sent.push(`${e.message}:${(e.payload as { what: string }).what}`);
      if (r.snapshot.state === 'FAILED') break;
      r = transition(travel, r.snapshot, { type: 'Undone' });
    }
    expect(sent).toEqual(['Cancel:car', 'Cancel:hotel', 'Cancel:flight']);
    expect(sent).toEqual(plan);
    expect(compensationPlan(travel, r.snapshot)).toEqual([]);
  });
});
