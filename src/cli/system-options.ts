import { isAbsolute, resolve } from 'node:path';
import { importUserModule } from './user-module.js';
import type { SystemDefinition, SystemRunOptions, VersionedSystem } from '../verify/index.js';
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
const isVersioned = (x: unknown): x is VersionedSystem => typeof x === 'object' && x !== null && 'versions' in x && 'migrations' in x && typeof x.versions === 'object' && Array.isArray(x.migrations);

/** What `loadSystem` found: the definition to check, and for `--migration` the versioned system and the two versions. */
export interface LoadedSystem {
  readonly definition: SystemDefinition;
  readonly run: SystemRunOptions;
  readonly migration?: { readonly system: VersionedSystem; readonly from: number; readonly to: number };
}

/**
 * The system `ordo verify` / `ordo export` check: `order` (the shop), or a path to a
 * module that exports a system definition (`export const system`, the default export,
 * or a function `(options) => definition` given `{ keys, stock }`). With `migration`
 * (`v1→v2`, `v1->v2`, `1:2`) the system must be versioned: `order`, or a module exporting
 * `{ name, versions: { 1: def, 2: def }, migrations: [...] }` (or a function returning it).
 */
export async function loadSystem(system: string, flags: ModelFlags, migrationFlag?: string): Promise<LoadedSystem> {
  const keys = int('orders', flags.orders, 1, 16);
  const stock = flags.stock === undefined ? undefined : int('stock', flags.stock, 0, 255);
  const { faultsOf, parseMigrationFlag, ModelOptionsError } = await import('../verify/index.js');
  let between: { from: number; to: number } | undefined;
  try {
    between = migrationFlag === undefined ? undefined : parseMigrationFlag(migrationFlag);
  } catch (e) {
    return failUsage(e instanceof ModelOptionsError ? `--migration: ${e.reason}` : String(e));
  }
  let definition: SystemDefinition;
  let versioned: VersionedSystem | undefined;
  if (system === 'order') {
    const { shopSystem, shopVersions } = await import('../shop/system/order-system.js');
    const o = { orders: keys, ...(stock === undefined ? {} : { stock }) };
    definition = shopSystem(o);
    versioned = shopVersions(o);
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
    if (isVersioned(built)) {
      versioned = built;
      const latest = Math.max(...Object.keys(built.versions).map(Number));
      const def = built.versions[latest];
      if (!isDefinition(def)) return failUsage(`${system} exports versions without a system definition for v${latest}`);
      definition = def;
    } else if (!isDefinition(built)) return failUsage(`${system} exports no system definition (export const system = { machine, participants, wiring, … })`);
    else definition = built;
  } else {
    return failUsage(`unknown model "${system}"; known: order, or a path to a module exporting a system definition`);
  }
  let migration: LoadedSystem['migration'];
  if (between) {
    if (!versioned) return failUsage(`--migration needs a versioned system; ${system} exports one definition (export { name, versions: { 1: …, 2: … }, migrations: [...] })`);
    const [from, to] = [versioned.versions[between.from], versioned.versions[between.to]];
    if (!from || !to) return failUsage(`--migration: ${system} has versions ${Object.keys(versioned.versions).join(', ')}; no v${between.from} and v${between.to}`);
    definition = to;
    migration = { system: versioned, ...between };
  }
  // A migration check takes the faults of either version (the new one may add a participant's choice).
  const known = [...new Set([...faultsOf(definition), ...(migration ? faultsOf(migration.system.versions[migration.from] as SystemDefinition) : [])])];
  return {
    definition,
    ...(migration ? { migration } : {}),
    run: {
      keys,
      faults: parseFaults(flags.faults, known),
      symmetry: flags.symmetry === true,
      ...(flags.capacity === undefined ? {} : { capacity: int('capacity', flags.capacity, 2, 32) }),
    },
  };
}
