import type { Command } from 'commander';

export interface ModelFlags {
  orders: string;
  stock?: string;
  faults?: string;
  capacity?: string;
  symmetry?: boolean;
}

/** The shop's faults (`faultsOf` its v2 system definition; `fraud` only with --migration or v2), named here so `ordo --help` need not load the checker (a test keeps them equal). */
export const FAULT_NAMES = ['loss', 'dup', 'reorder', 'crash', 'enginecrash', 'timeout', 'cancel', 'decline', 'provider', 'refundfail', 'fraud', 'shipfail'] as const;

/** The flags `verify` and `export` share, so both describe the same model. */
export function addModelFlags(cmd: Command): Command {
  return cmd
    .option('--orders <n>', 'keys (orders) sharing the resources', '2')
    .option('--stock <s>', 'units in stock (default: orders - 1, so someone can be refused)')
    .option('--faults <list>', `faults to inject, comma separated, each optionally with a budget (dup=2); the shop's: ${FAULT_NAMES.join(', ')}`)
    .option('--capacity <n>', 'slots per message queue (default from the budgets)')
    .option('--symmetry', 'reduce by symmetry: orders are interchangeable');
}
