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
    .option('--migration <from→to>', 'check a live migration of running instances (v1→v2, v1->v2 or 1:2) on a versioned system: every v2 property while keys migrate at any state')
    .option('--json', 'print one JSON object: { model, orders, states, transitions, seconds, properties, violations[, migration] }')
    .action(async (model: string, flags: ModelFlags & { json?: boolean; liveness: boolean; migration?: string }) => {
      // Loaded here, not at the top, so the other commands start without the checker and the shop.
      const [{ ModelBoundError, ModelOptionsError, checkMigration, checkSystem, formatResult }, { loadSystem }] = await Promise.all([import('../verify/index.js'), import('./system-options.js')]);
      let result;
      let migration;
      try {
        const loaded = await loadSystem(model, flags, flags.migration);
        const options = {
          liveness: flags.liveness,
          now: () => performance.now(),
          onProgress: (p: { states: number; statesPerSec?: number; depth: number; queue: number }) => process.stderr.write(`  … ${p.states} states, ${Math.round(p.statesPerSec ?? 0)} states/s, depth ${p.depth}, queue ${p.queue}\n`),
        };
        if (loaded.migration) {
          const checked = checkMigration(loaded.migration.system, loaded.migration, loaded.run, options);
          migration = { ...checked.migration, refused: checked.refused };
          result = checked;
        } else result = checkSystem(loaded.definition, loaded.run, options);
      } catch (e) {
        if (e instanceof ModelOptionsError || e instanceof ModelBoundError) return failUsage(e.message);
        throw e;
      }
      if (flags.json) {
        const { states, transitions, violations, properties } = result;
        process.stdout.write(JSON.stringify({ model: result.model, orders: result.keys, states, transitions, seconds: result.seconds ?? 0, properties: properties.map((p) => ({ name: p.name, kind: p.kind, status: p.status })), violations, ...(migration ? { migration } : {}) }) + '\n');
      } else {
        if (migration) process.stdout.write(`migration ${migration.machine} v${migration.from}→v${migration.to}${migration.description ? `: ${migration.description}` : ''}\n`);
        if (migration && migration.refused.length > 0) process.stdout.write(`✗ refused as data (nothing explored):\n${migration.refused.map((r) => `  - ${r}`).join('\n')}\n`);
        else process.stdout.write(formatResult(result));
      }
      if (result.violations.length > 0 || (migration?.refused.length ?? 0) > 0) process.exitCode = 1;
    });
}
