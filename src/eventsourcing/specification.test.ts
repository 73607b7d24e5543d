import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import type { Decider } from './decider.js';
import { InvalidCommandError } from './errors.js';
import { DeciderSpecification } from './specification.js';

type Ev = { type: 'Deposited'; data: { amount: number } };
const account: Decider<number, { type: 'Deposit'; amount: number }, Ev> = {
  initialState: () => 0,
  evolve: (balance, e) => balance + e.data.amount,
  decide: (c, balance) => {
    if (c.amount <= 0) throw new InvalidCommandError('Deposit', ['amount must be positive']);
    return balance + c.amount > 100 ? [] : [{ type: 'Deposited', data: { amount: c.amount } }];
  },
};
const spec = DeciderSpecification.for(account);

describe('DeciderSpecification', () => {
  it('passes when the decided events are the expected ones, folding the given events first', () => {
    spec.given([{ type: 'Deposited', data: { amount: 90 } }]).when({ type: 'Deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 5 } }]);
    spec.given([{ type: 'Deposited', data: { amount: 90 } }]).when({ type: 'Deposit', amount: 50 }).thenNothingHappened();
  });

  it('fails when the events differ, or when something happened that should not have', () => {
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 6 } }])).toThrow(AssertionError);
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 5 }).thenNothingHappened()).toThrow(AssertionError);
  });

  it('thenThrows returns the error, and fails on no error, another class, or a failed check', () => {
    const err = spec.given([]).when({ type: 'Deposit', amount: 0 }).thenThrows(InvalidCommandError);
    expect(err.issues).toEqual(['amount must be positive']);
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 1 }).thenThrows(InvalidCommandError)).toThrow(/expected InvalidCommandError/);
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 0 }).thenThrows(RangeError)).toThrow(AssertionError);
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 0 }).thenThrows(InvalidCommandError, () => false)).toThrow(AssertionError);
  });
});
