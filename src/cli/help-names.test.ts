import { describe, expect, it } from 'vitest';
import { machines } from '../shop/index.js';
import { faultsOf } from '../verify/index.js';
import { orderSystemV2 } from '../shop/system/order-system.js';
import { MACHINE_NAMES } from './diagram-command.js';
import { FAULT_NAMES } from './order-model-flags.js';
import { PROJECTION_NAMES } from './projections-command.js';
import { projections } from './projections-run.js';

// The help names these without loading the modules that own them, so `ordo --help` starts fast.
describe('the names the CLI help lists', () => {
  it('are the machines, faults and projections the commands accept', () => {
    expect([...MACHINE_NAMES]).toEqual(Object.keys(machines));
    expect([...FAULT_NAMES]).toEqual(faultsOf(orderSystemV2({ orders: 1 })));
    expect([...PROJECTION_NAMES]).toEqual(Object.keys(projections));
  });
});
