import type { Command } from 'commander';
import { addModelFlags, type ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

export function registerVerify(program: Command): void {
  addModelFlags(
    program
      .command('verify')
      .description('model-check a system built from the machine and the participant deciders the runtime executes (exit 1 when a property is violated)')
      .argument('<system>', 'order (the shop), or a path to a module exporting a system definition'),
  )
    .option('--no-liveness', 'check safety only (does not keep the state graph)')
    .option('--json', 'print one JSON object: { model, orders, states, transitions, seconds, properties, violations }')
    .action(async (model: string, flags: ModelFlags & { json?: boolean; liveness: boolean }) => {
      // Loaded here, not at the top, so the other commands start without the checker and the shop.
      const [{ ModelBoundError, ModelOptionsError, checkSystem, formatResult }, { loadSystem }] = await Promise.all([import('../verify/index.js'), import('./system-options.js')]);
      let result;
      try {
        const { definition, run } = await loadSystem(model, flags);
        result = checkSystem(definition, run, {
          liveness: flags.liveness,
          now: () => performance.now(),
          onProgress: (p) => process.stderr.write(`  … ${p.states} states, ${Math.round(p.statesPerSec ?? 0)} states/s, depth ${p.depth}, queue ${p.queue}\n`),
        });
      } catch (e) {
        if (e instanceof ModelOptionsError || e instanceof ModelBoundError) return failUsage(e.message);
        throw e;
      }
      if (flags.json) {
        const { states, transitions, violations, properties } = result;
        process.stdout.write(JSON.stringify({ model: result.model, orders: result.keys, states, transitions, seconds: result.seconds ?? 0, properties: properties.map((p) => ({ name: p.name, kind: p.kind, status: p.status })), violations }) + '\n');
      } else {
        process.stdout.write(formatResult(result));
      }
      if (result.violations.length > 0) process.exitCode = 1;
    });
}
