import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../machine/index.js';
import { orderMachine } from '../shop/index.js';
import { checkMachine } from './machine-checker.js';

// A counter that may add 1 or 2 while below 4 and finishes at exactly 4.
const counter = setup({
  context: z.object({ n: z.number().int() }),
  events: { Inc: z.object({}), Inc2: z.object({}), Done: z.object({}) },
  guards: { below4: (c) => c.n < 4, below3: (c) => c.n < 3, atFour: (c) => c.n === 4 },
  assign: { plus1: (c) => ({ n: c.n + 1 }), plus2: (c) => ({ n: c.n + 2 }) },
}).createMachine({
  id: 'counter',
  version: 1,
  initial: 'COUNTING',
  states: {
    COUNTING: {
      on: {
        Inc: { target: 'COUNTING', guard: 'below4', assign: 'plus1' },
        Inc2: { target: 'COUNTING', guard: 'below3', assign: 'plus2' },
        Done: { target: 'DONE', guard: 'atFour' },
      },
    },
    DONE: { type: 'final' },
  },
});

// A door: locking is a trap unless the context holds a key (a deadlock no diagram shows).
const door = setup({
  context: z.object({ key: z.boolean() }),
  events: { Lock: z.object({}), Unlock: z.object({}), Close: z.object({}) },
  guards: { hasKey: (c) => c.key },
}).createMachine({
  id: 'door',
  version: 1,
  initial: 'OPEN',
  states: {
    OPEN: { on: { Lock: 'LOCKED', Close: 'CLOSED' } },
    LOCKED: { on: { Unlock: { target: 'OPEN', guard: 'hasKey' } } },
    CLOSED: { type: 'final' },
  },
});

// Ping-pong whose way out needs permission: without it the two states loop forever (a dead end, not a deadlock).
const pingPong = setup({
  context: z.object({ mayQuit: z.boolean() }),
  events: { Ping: z.object({}), Pong: z.object({}), Quit: z.object({}) },
  guards: { mayQuit: (c) => c.mayQuit },
}).createMachine({
  id: 'pingpong',
  version: 1,
  initial: 'PING',
  states: {
    PING: { on: { Ping: 'PONG', Quit: { target: 'DONE', guard: 'mayQuit' } } },
    PONG: { on: { Pong: 'PING' } },
    DONE: { type: 'final' },
  },
});

describe('checkMachine', () => {
  it('counts every reachable snapshot and transition', () => {
    const r = checkMachine(counter, { context: { n: 0 } });
    // n = 0..4 while COUNTING, then DONE; Inc from n<4 (4), Inc2 from n<3 (3), Done from n=4 (1).
    expect(r.states).toBe(6);
    expect(r.transitions).toBe(8);
    expect(r.ok).toBe(true);
  });

  it('finds the shortest trace to an invariant violation (breadth-first)', () => {
    const r = checkMachine(counter, { context: { n: 0 }, invariants: { neverThree: (s) => (s.context as { n: number }).n !== 3 } });
    expect(r.invariantViolations).toHaveLength(1);
    expect(r.invariantViolations[0]?.invariant).toBe('neverThree');
    // Two steps (Inc then Inc2), not three Incs.
    expect(r.invariantViolations[0]?.trace.map((s) => s.event)).toEqual(['Inc', 'Inc2']);
    expect(r.ok).toBe(false);
  });

  it('finds a deadlock that depends on the context', () => {
    const trapped = checkMachine(door, { context: { key: false } });
    expect(trapped.deadlocks.map((d) => d.state)).toEqual(['LOCKED']);
    expect(trapped.deadlocks[0]?.trace).toEqual([{ event: 'Lock', from: 'OPEN', to: 'LOCKED' }]);
    expect(trapped.cannotReachFinal.map((d) => d.state)).toEqual(['LOCKED']);
    const keyed = checkMachine(door, { context: { key: true } });
    expect(keyed.ok).toBe(true);
    expect([keyed.states, keyed.transitions]).toEqual([3, 3]);
  });

  it('finds states that loop forever without a way to finish, though never stuck', () => {
    const r = checkMachine(pingPong, { context: { mayQuit: false } });
    expect(r.deadlocks).toEqual([]);
    expect(r.cannotReachFinal.map((f) => f.state).sort()).toEqual(['PING', 'PONG']);
    expect(checkMachine(pingPong, { context: { mayQuit: true } }).ok).toBe(true);
  });

  it('checks step invariants on each transition taken', () => {
    const r = checkMachine(counter, { context: { n: 0 }, stepInvariants: { onlyUp: (from, _ev, to) => (to.context as { n: number }).n >= (from.context as { n: number }).n } });
    expect(r.invariantViolations).toEqual([]);
  });

  it('passes the shipped order machine: every snapshot can finish, no deadlock', () => {
    const r = checkMachine(orderMachine, { context: { orderId: 'o', customerId: 'c', items: [{ sku: 's', quantity: 1, unitPrice: 1 }], total: 1 } });
    expect(r.ok).toBe(true);
    // Every state is reached at rest except the transient ones that move on at once (`always`).
    const transient = orderMachine.stateNames.filter((n) => orderMachine.states[n].always.length > 0);
    expect(transient.sort()).toEqual(['INVENTORY_RESERVED', 'PAYMENT_APPROVED']);
    expect(new Set(r.reachedStates)).toEqual(new Set(orderMachine.stateNames.filter((n) => !transient.includes(n))));
  });
});
