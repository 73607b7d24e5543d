import { isAbsolute, resolve } from 'node:path';
import { importUserModule } from './user-module.js';
import type { SystemDefinition, SystemRunOptions } from '../verify/index.js';
import type { ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) failUsage(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

export function parseFaults(raw: string | undefined, known: readonly string[]): Record<string, number> {
  const faults: Record<string, number> = {};
  if (raw === undefined || raw.trim() === '' || raw === 'none') return faults;
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name = '', budget] = part.split('=');
    if (!known.includes(name)) failUsage(`unknown fault "${name}" in --faults; known: ${known.join(', ')}`);
    faults[name] = budget === undefined ? 1 : int(`faults ${name}`, budget, 0, 100);
  }
  return faults;
}

const isDefinition = (x: unknown): x is SystemDefinition => typeof x === 'object' && x !== null && 'machine' in x && 'participants' in x && 'wiring' in x;

/**
 * The system `ordo verify` / `ordo export` check: `order` (the shop), or a path to a
 * module that exports a system definition (`export const system`, the default export,
 * or a function `(options) => definition` given `{ keys, stock }`).
 */
export async function loadSystem(system: string, flags: ModelFlags): Promise<{ definition: SystemDefinition; run: SystemRunOptions }> {
  const keys = int('orders', flags.orders, 1, 16);
  const stock = flags.stock === undefined ? undefined : int('stock', flags.stock, 0, 255);
  if (flags.mode !== undefined && flags.mode !== 'orchestration' && flags.mode !== 'choreography') failUsage(`--mode must be orchestration or choreography, got "${flags.mode}"`);
  if (flags.mode !== undefined && system !== 'order') failUsage('--mode chooses the wiring of the shop (order); a module\'s system definition carries its own wiring');
  let definition: SystemDefinition;
  if (system === 'order') {
    const { shopSystem } = await import('../shop/system/order-system.js');
    definition = shopSystem({ orders: keys, ...(stock === undefined ? {} : { stock }), ...(flags.mode === 'choreography' ? { mode: 'choreography' as const } : {}) });
  } else if (/[/\\]|\.[cm]?[jt]s$/.test(system)) {
    const path = isAbsolute(system) ? system : resolve(process.cwd(), system);
    let mod: Record<string, unknown>;
    try {
      mod = await importUserModule(path);
    } catch (e) {
      return failUsage(`cannot load system module ${system}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const exported = mod['system'] ?? mod['default'];
    const built: unknown = typeof exported === 'function' ? (exported as (o: { keys: number; stock?: number }) => unknown)({ keys, ...(stock === undefined ? {} : { stock }) }) : exported;
    if (!isDefinition(built)) return failUsage(`${system} exports no system definition (export const system = { machine, participants, wiring, … })`);
    definition = built;
  } else {
    return failUsage(`unknown model "${system}"; known: order, or a path to a module exporting a system definition`);
  }
  const { faultsOf } = await import('../verify/index.js');
  return {
    definition,
    run: {
      keys,
      faults: parseFaults(flags.faults, faultsOf(definition)),
      symmetry: flags.symmetry === true,
      ...(flags.capacity === undefined ? {} : { capacity: int('capacity', flags.capacity, 2, 32) }),
    },
  };
}
