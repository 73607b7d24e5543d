import type { Command } from 'commander';
import type { ShopRetention } from '../shop/index.js';

/** The shop's DEFAULT_SHOP_RETENTION, named here so `ordo --help` need not load the shop (a test keeps them equal). */
export const RETENTION_DEFAULTS: ShopRetention = { finishedAfterMs: 30 * 86_400_000, inboxAfterMs: 7 * 86_400_000, mode: 'archive', intervalMs: 600_000 };

/** The retention flags `ordo start` and `ordo retention` share, so both describe the same policy. */
export interface RetentionFlags {
  retentionFinished?: string;
  retentionInbox?: string;
  retentionMode?: string;
  retentionInterval?: string;
  retentionVacuum?: string;
}

/** `ordo retention`'s flags: where the shop's databases are, and the policy. */
export interface RetentionCommandFlags extends RetentionFlags {
  postgres?: string;
  namespace: string;
  dataDir?: string;
  json?: boolean;
}

export class RetentionFlagError extends Error {}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `500ms`, `30s`, `15m`, `12h`, `30d`. */
export function durationFlag(name: string, raw: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms)) throw new RetentionFlagError(`--${name} must be a duration such as 30d, 12h, 15m, 30s or 500ms, got "${raw}"`);
  return ms;
}

export function addRetentionFlags(cmd: Command, defaults: ShopRetention = RETENTION_DEFAULTS): Command {
  const days = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms / 1000}s`);
  return cmd
    .option('--retention-finished <duration>', `finished orders leave the live tables this long after they finished (default ${days(defaults.finishedAfterMs)}; "off": keep everything)`)
    .option('--retention-inbox <duration>', `inbox entries, idempotency keys and published service reports leave after this long; keep it longer than any redelivery (default ${days(defaults.inboxAfterMs)})`)
    .option('--retention-mode <mode>', `archive (to the *_archive tables; GET /orders/:id still finds the order) or delete (default ${defaults.mode})`)
    .option('--retention-interval <duration>', `how often a retention round runs (default ${days(defaults.intervalMs)})`)
    .option('--retention-vacuum <when>', 'VACUUM (ANALYZE) the tables a round churned: auto (where autovacuum does not run: PGlite, a server with it off), always, or never (default auto)');
}

/** The policy the flags describe; `false` for `--retention-finished off`. */
export function retentionFromFlags(flags: RetentionFlags, defaults: ShopRetention = RETENTION_DEFAULTS): ShopRetention | false {
  if (flags.retentionFinished?.trim() === 'off') return false;
  const mode = flags.retentionMode ?? defaults.mode;
  if (mode !== 'archive' && mode !== 'delete') throw new RetentionFlagError(`--retention-mode must be archive or delete, got "${mode}"`);
  const vacuum = flags.retentionVacuum;
  if (vacuum !== undefined && vacuum !== 'auto' && vacuum !== 'always' && vacuum !== 'never') throw new RetentionFlagError(`--retention-vacuum must be auto, always or never, got "${vacuum}"`);
  const policy: ShopRetention = {
    finishedAfterMs: flags.retentionFinished === undefined ? defaults.finishedAfterMs : durationFlag('retention-finished', flags.retentionFinished),
    inboxAfterMs: flags.retentionInbox === undefined ? defaults.inboxAfterMs : durationFlag('retention-inbox', flags.retentionInbox),
    mode,
    intervalMs: flags.retentionInterval === undefined ? defaults.intervalMs : durationFlag('retention-interval', flags.retentionInterval),
    ...(vacuum === undefined ? {} : { vacuum }),
  };
  if (policy.intervalMs < 1000) throw new RetentionFlagError(`--retention-interval must be at least 1s, got "${flags.retentionInterval ?? ''}"`);
  return policy;
}
