import type { Command } from 'commander';
import { addModelFlags, type ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

export function registerVerify(program: Command): void {
  addModelFlags(
    program
      .command('verify')
      .description('model-check the order system built from the machine the runtime executes (exit 1 when a property is violated)')
      .argument('<model>', 'model name (order)'),
  )
    .option('--no-liveness', 'check safety only (does not keep the state graph)')
    .option('--json', 'print one JSON object: { model, orders, states, transitions, seconds, violations }')
    .action(async (model: string, flags: ModelFlags & { json?: boolean; liveness: boolean }) => {
      // Loaded here, not at the top, so the other commands start without the checker and the shop.
      const [{ ModelBoundError, ModelOptionsError, checkOrderSystem, formatResult }, { orderModelOptions }] = await Promise.all([import('../verify/index.js'), import('./order-model-options.js')]);
      const options = orderModelOptions(model, flags);
      let result;
      try {
        result = checkOrderSystem(options, {
          liveness: flags.liveness,
          now: () => performance.now(),
          onProgress: (p) => process.stderr.write(`  … ${p.states} states, ${Math.round(p.statesPerSec ?? 0)} states/s, depth ${p.depth}, queue ${p.queue}\n`),
        });
      } catch (e) {
        if (e instanceof ModelOptionsError || e instanceof ModelBoundError) return failUsage(e.message);
        throw e;
      }
      if (flags.json) {
        const { states, transitions, violations } = result;
        process.stdout.write(JSON.stringify({ model, orders: result.orders, states, transitions, seconds: result.seconds ?? 0, violations }) + '\n');
      } else {
        process.stdout.write(formatResult(result));
      }
      if (result.violations.length > 0) process.exitCode = 1;
    });
}
