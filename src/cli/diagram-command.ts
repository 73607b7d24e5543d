import type { Command } from 'commander';
import { machineToJSON, toMermaid } from '../machine/index.js';
import { machines } from '../shop/index.js';
import { failUsage } from './usage-error.js';

export function registerDiagram(program: Command): void {
  program
    .command('diagram')
    .description('print a machine as a Mermaid stateDiagram-v2 (or its definition as JSON)')
    .argument('<machine>', `machine name (${Object.keys(machines).join(', ')})`)
    .option('--json', 'print the definition as JSON instead')
    .action((name: string, opts: { json?: boolean }) => {
      const machine = machines[name];
      if (!machine) return failUsage(`unknown machine "${name}"; known: ${Object.keys(machines).join(', ')}`);
      process.stdout.write(opts.json ? JSON.stringify(machineToJSON(machine), null, 2) + '\n' : toMermaid(machine));
    });
}
