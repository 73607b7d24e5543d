import type { Command } from 'commander';
import { failUsage } from './usage-error.js';

/** The shop's `machines`, named here so `ordo --help` need not load the shop (a test keeps them equal). */
export const MACHINE_NAMES = ['order'] as const;

export function registerDiagram(program: Command): void {
  program
    .command('diagram')
    .description('print a machine as a Mermaid stateDiagram-v2 (or its definition as JSON)')
    .argument('<machine>', `machine name (${MACHINE_NAMES.join(', ')})`)
    .option('--json', 'print the definition as JSON instead')
    .action(async (name: string, opts: { json?: boolean }) => {
      // Loaded here, not at the top, so the other commands start without the shop.
      const [{ machineToJSON, toMermaid }, { machines }] = await Promise.all([import('../machine/index.js'), import('../shop/index.js')]);
      const machine = machines[name];
      if (!machine) return failUsage(`unknown machine "${name}"; known: ${Object.keys(machines).join(', ')}`);
      process.stdout.write(opts.json ? JSON.stringify(machineToJSON(machine), null, 2) + '\n' : toMermaid(machine));
    });
}
