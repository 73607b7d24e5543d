import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHOP_RETENTION } from '../shop/index.js';
import { addRetentionFlags, durationFlag, RETENTION_DEFAULTS, RetentionFlagError, retentionFromFlags, type RetentionFlags } from './retention-flags.js';

const parse = (args: string[]): RetentionFlags => addRetentionFlags(new Command().exitOverride()).parse(args, { from: 'user' }).opts<RetentionFlags>();

describe('retention flags', () => {
  it('default to the shop\'s policy (the help names it without loading the shop)', () => {
    expect(RETENTION_DEFAULTS).toEqual(DEFAULT_SHOP_RETENTION);
    expect(retentionFromFlags(parse([]))).toEqual(DEFAULT_SHOP_RETENTION);
  });
  it('read durations with units up to days, a mode, and "off"', () => {
    expect(retentionFromFlags(parse(['--retention-finished', '12h', '--retention-inbox', '3d', '--retention-mode', 'delete', '--retention-interval', '30s']))).toEqual({
      finishedAfterMs: 12 * 3_600_000,
      inboxAfterMs: 3 * 86_400_000,
      mode: 'delete',
      intervalMs: 30_000,
    });
    expect(retentionFromFlags(parse(['--retention-finished', 'off']))).toBe(false);
    expect(retentionFromFlags(parse(['--retention-vacuum', 'always']))).toEqual({ ...DEFAULT_SHOP_RETENTION, vacuum: 'always' });
    expect(retentionFromFlags(parse(['--retention-vacuum', 'never']))).toMatchObject({ vacuum: 'never' });
    expect(durationFlag('x', '500ms')).toBe(500);
  });
  it('refuse what is not a duration or a mode, naming the flag', () => {
    for (const [args, message] of [
      [['--retention-finished', '7 days'], /--retention-finished must be a duration/],
      [['--retention-inbox', '-1d'], /--retention-inbox/],
      [['--retention-inbox', ''], /--retention-inbox/],
      [['--retention-mode', 'shred'], /--retention-mode must be archive or delete/],
      [['--retention-interval', '10ms'], /at least 1s/],
      [['--retention-vacuum', 'sometimes'], /--retention-vacuum must be auto, always or never/],
    ] as const) {
      expect(() => retentionFromFlags(parse([...args]))).toThrow(RetentionFlagError);
      expect(() => retentionFromFlags(parse([...args]))).toThrow(message);
    }
  });
});
