import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname });
type Failure = { code: number; stdout: string; stderr: string };
const failure = (p: Promise<unknown>): Promise<Failure> => p.then(() => ({ code: 0, stdout: '', stderr: '' }), (e: unknown) => e as Failure);

describe('ordo verify / ordo export (the real CLI process)', () => {
  it('--json prints exactly { model, orders, states, transitions, seconds, properties, violations }', async () => {
    const { stdout } = await ordo('verify', 'order', '--orders', '2', '--faults', 'dup,decline', '--json');
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(r)).toEqual(['model', 'orders', 'states', 'transitions', 'seconds', 'properties', 'violations']);
    expect(r['properties']).toContainEqual({ name: 'CompensationWorks', kind: 'liveness', status: 'holds' });
    expect(r).toMatchObject({ model: 'order', orders: 2, violations: [] });
    expect(r['states']).toBeGreaterThan(100);
  });

  it('--mode choreography checks the shop with the services reacting to the order events, and exports it', async () => {
    const [choreo, pml] = await Promise.all([
      ordo('verify', 'order', '--mode', 'choreography', '--orders', '2', '--faults', 'dup,decline,relaycrash', '--json'),
      ordo('export', 'order', '--mode', 'choreography', '--format', 'promela', '--orders', '1'),
    ]);
    expect(JSON.parse(choreo.stdout)).toMatchObject({ model: 'order-choreography', orders: 2, violations: [] });
    expect(pml.stdout).toContain('system order-choreography');
  });

  it('prints the property table, and symmetry reduces the states', async () => {
    const [full, sym] = await Promise.all([
      ordo('verify', 'order', '--orders', '3', '--faults', 'decline', '--stock', '1'),
      ordo('verify', 'order', '--orders', '3', '--faults', 'decline', '--stock', '1', '--symmetry'),
    ]);
    expect(full.stdout).toMatch(/✓ CompensationWorks\s+holds/);
    const count = (s: string) => Number(/^(\d+) states/m.exec(s)?.[1]);
    expect(count(sym.stdout)).toBeLessThan(count(full.stdout));
  });

  it('--migration v1→v2 proves the shop\'s live migration; a wrong mapping in a module is refused with the v1 history, the migrate step and the v2 continuation', async () => {
    const { stdout } = await ordo('verify', 'order', '--migration', 'v1->v2', '--orders', '1', '--faults', 'dup,fraud', '--json');
    const r = JSON.parse(stdout) as { violations: unknown[]; properties: { name: string; status: string }[]; migration: unknown };
    expect(r.violations).toEqual([]);
    expect(r.migration).toEqual({ machine: 'order', from: 1, to: 2, description: 'adds the fraud check; in-flight orders keep their state', refused: [] });
    expect(r.properties).toContainEqual({ name: 'NoStrandedMessages', kind: 'safety', status: 'holds' });
    const bad = await failure(ordo('verify', 'src/shop/system/wrong-migration-fixture.ts', '--migration', '1:2', '--orders', '1'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ InventoryConsistency: shortest trace, 4 steps\n.*\n── v1 history\n(.*\n){2}── the migrate step\n.*migrator\s+1\s+migrate v1→v2 \(INVENTORY_RESERVING → CANCELED\).*\n── v2 continuation\n.*handle ReserveInventory/);
  });

  it('rejects bad flags with a clear message and exit code 2', async () => {
    const cases = [
      [['verify', 'order', '--faults', 'meteor'], 'unknown fault "meteor"'],
      [['verify', 'order', '--orders', 'many'], '--orders must be an integer from 1 to 16'],
      [['verify', 'shop'], 'unknown model "shop"'],
      [['export', 'order', '--format', 'alloy'], '--format must be tla or promela'],
      [['verify', 'order', '--mode', 'chaos'], '--mode must be orchestration or choreography'],
      [['verify', 'examples/trip-booking/trip-system.ts', '--mode', 'choreography'], '--mode chooses the wiring of the shop'],
      [['verify', 'order', '--migration', 'v1 to v2'], '--migration: expected v1→v2, v1->v2 or 1:2, got "v1 to v2"'],
      [['verify', 'order', '--migration', 'v2→v3'], '--migration: order has versions 1, 2; no v2 and v3'],
    ] as const;
    const errors = await Promise.all(cases.map(([args]) => failure(ordo(...args))));
    cases.forEach(([args, message], k) => {
      expect(errors[k]?.code, args.join(' ')).toBe(2);
      expect(errors[k]?.stderr).toContain(message);
    });
  });

  it('verifies a user system from a module path (the trip booking example), and names its faults', async () => {
    const { stdout } = await ordo('verify', 'examples/trip-booking/trip-system.ts', '--orders', '2', '--faults', 'dup,car-refuses', '--json');
    const r = JSON.parse(stdout) as { model: string; properties: { name: string; status: string }[]; violations: unknown[] };
    expect(r.model).toBe('trip');
    expect(r.violations).toEqual([]);
    expect(r.properties.map((p) => `${p.name} ${p.status}`)).toEqual(['ValidStateTransitions holds', 'NoStrandedMessages holds', 'NoOverbooking holds', 'AllOrNothing holds', 'EventuallyFinishes holds', 'CompensationCompletes holds']);
    const bad = await failure(ordo('verify', 'examples/trip-booking/trip-system.ts', '--faults', 'decline'));
    expect(bad.stderr).toContain('unknown fault "decline"');
    expect(bad.stderr).toContain('car-refuses');
  });

  it('exports Promela and TLA+ for the same model options', async () => {
    const [pml, tla] = await Promise.all([ordo('export', 'order', '--format', 'promela', '--orders', '2', '--faults', 'dup=2'), ordo('export', 'order', '--format', 'tla', '--orders', '2')]);
    expect(pml.stdout).toContain('active proctype system()');
    expect(pml.stdout).toContain('byte b_dup = 2;');
    expect(tla.stdout).toMatch(/^-+ MODULE OrdoOrderSystem -+$/m);
    expect(tla.stdout).toContain('==== file OrdoOrderSystem.cfg ====');
    expect(tla.stdout).toContain('SPECIFICATION Spec');
    // The properties: Promela as ltl claims, TLA+ as definitions in the module listed in the .cfg, the two files clearly apart.
    expect(pml.stdout).toContain('ltl StockConservation { [] inv_StockConservation }');
    expect(pml.stdout).toContain('ltl EventuallyTerminates { [] (pending_EventuallyTerminates -> <> !pending_EventuallyTerminates) }');
    const [module = '', cfg = ''] = tla.stdout.split('\\* ==== file OrdoOrderSystem.cfg ====');
    expect(module).toContain('\\* ==== file OrdoOrderSystem.tla ====');
    expect(module).toMatch(/^StockConservation == /m);
    expect(cfg).toContain('INVARIANT StockConservation');
    expect(cfg).toContain('PROPERTY CompensationWorks');
  });
});
