import type { Command } from 'commander';
import { addModelFlags, type ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

export function registerExport(program: Command): void {
  addModelFlags(
    program
      .command('export')
      .description('print the order system model for another checker: TLA+ (TLC) or Promela (SPIN)')
      .argument('<model>', 'model name (order)'),
  )
    .requiredOption('--format <format>', 'tla or promela')
    .action(async (model: string, flags: ModelFlags & { format: string }) => {
      if (flags.format !== 'tla' && flags.format !== 'promela') return failUsage(`--format must be tla or promela, got "${flags.format}"`);
      // Loaded here, not at the top, so the other commands start without the checker and the shop.
      const [{ ModelBoundError, ModelOptionsError, toPromela, toTla }, { orderModelOptions }] = await Promise.all([import('../verify/index.js'), import('./order-model-options.js')]);
      const options = orderModelOptions(model, flags);
      try {
        process.stdout.write(flags.format === 'tla' ? toTla(options) : toPromela(options));
      } catch (e) {
        if (e instanceof ModelOptionsError || e instanceof ModelBoundError) return failUsage(e.message);
        throw e;
      }
    });
}
