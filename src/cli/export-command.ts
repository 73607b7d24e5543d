import type { Command } from 'commander';
import { addModelFlags, type ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

export function registerExport(program: Command): void {
  addModelFlags(
    program
      .command('export')
      .description('print a system for another checker: TLA+ with its TLC configuration, or Promela (SPIN)')
      .argument('<system>', 'order (the shop), or a path to a module exporting a system definition'),
  )
    .requiredOption('--format <format>', 'tla or promela')
    .option('--out <dir>', 'write the files there (<Module>.tla and .cfg, or system.pml) instead of printing them')
    .action(async (model: string, flags: ModelFlags & { format: string; out?: string }) => {
      if (flags.format !== 'tla' && flags.format !== 'promela') return failUsage(`--format must be tla or promela, got "${flags.format}"`);
      // Loaded here, not at the top, so the other commands start without the checker and the shop.
      const [{ ModelBoundError, ModelOptionsError, toPromela, toTla }, { loadSystem }, { writeExport }] = await Promise.all([import('../verify/index.js'), import('./system-options.js'), import('./export-files.js')]);
      try {
        const { definition, run } = await loadSystem(model, flags);
        if (flags.format === 'promela') return writeExport(flags.out, [{ name: `${definition.name}.pml`, text: toPromela(definition, run) }]);
        const { module, cfg } = toTla(definition, run);
        const name = /MODULE (\w+)/.exec(module)?.[1] ?? 'System';
        writeExport(flags.out, [
          { name: `${name}.tla`, text: module },
          { name: `${name}.cfg`, text: cfg },
        ]);
      } catch (e) {
        if (e instanceof ModelOptionsError || e instanceof ModelBoundError) return failUsage(e.message);
        throw e;
      }
    });
}
