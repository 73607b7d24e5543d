import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SEED_TRANSITIONS } from '../shop/order-machine.js';

const run = promisify(execFile);
const ordo = (...args: string[]) => run('node', ['bin/ordo.js', ...args], { cwd: new URL('../..', import.meta.url).pathname });

describe('ordo diagram (the real CLI process)', () => {
  it('prints every seed transition as an edge', async () => {
    const { stdout } = await ordo('diagram', 'order');
    expect(stdout.startsWith('stateDiagram-v2')).toBe(true);
    for (const [from, tos] of Object.entries(SEED_TRANSITIONS)) for (const to of tos) expect(stdout).toMatch(new RegExp(`^  ${from} --> ${to}:`, 'm'));
  });

  it('fails clearly on an unknown machine, with exit code 2', async () => {
    const err = await ordo('diagram', 'nope').catch((e: unknown) => e as { code: number; stderr: string });
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('unknown machine "nope"; known: order');
  });

  it('lists its commands in --help', async () => {
    const { stdout } = await ordo('--help');
    expect(stdout).toMatch(/diagram/);
    expect(stdout).toMatch(/bench/);
  });
});
