import { NetworkListError, networkMatcher, type GatewaySecurityOptions } from '../shop/index.js';

/** The gateway's security flags of `ordo start` (README "Security"). */
export interface SecurityFlags {
  rateLimitToken?: string;
  rateLimitIp?: string;
  requestTimeoutMs?: string;
  corsOrigin?: string;
  internalNetworks?: string;
  trustProxy?: string;
  /** `--no-access-log` sets false. */
  accessLog?: boolean;
}

export class SecurityFlagError extends Error {}

function count(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new SecurityFlagError(`--${name} must be a whole number from 0 to ${max}, got "${v}"`);
  return n;
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** `--cors-origin https://shop.example,https://admin.example`: exact origins (scheme, host, port), nothing else. */
function corsOrigins(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const origins = list(v);
  for (const o of origins) {
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== o || !/^https?:/.test(o)) throw new SecurityFlagError(`--cors-origin takes origins such as https://shop.example (scheme, host and port only), got "${o}"`);
  }
  return origins;
}

function networks(flag: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const entries = list(v);
  try {
    networkMatcher(entries);
  } catch (e) {
    if (e instanceof NetworkListError) throw new SecurityFlagError(`--${flag}: ${e.message}`);
    throw e;
  }
  return entries;
}

function trustProxy(v: string | undefined): boolean | string | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  const entries = networks('trust-proxy', v) ?? [];
  if (entries.some((e) => e === 'private' || e === 'any')) throw new SecurityFlagError(`--trust-proxy takes true or the proxies' addresses/CIDRs, got "${v}"`);
  return entries.join(',');
}

export function securityFromFlags(flags: SecurityFlags): GatewaySecurityOptions {
  const perToken = count('rate-limit-token', flags.rateLimitToken, 1_000_000);
  const perIp = count('rate-limit-ip', flags.rateLimitIp, 1_000_000);
  const timeout = count('request-timeout-ms', flags.requestTimeoutMs, 3_600_000);
  if (timeout !== undefined && timeout < 1000) throw new SecurityFlagError(`--request-timeout-ms must be at least 1000, got "${flags.requestTimeoutMs}"`);
  const cors = corsOrigins(flags.corsOrigin);
  const internal = networks('internal-networks', flags.internalNetworks);
  const proxy = trustProxy(flags.trustProxy);
  return {
    ...(perToken !== undefined || perIp !== undefined ? { rateLimit: { ...(perToken !== undefined ? { perToken } : {}), ...(perIp !== undefined ? { perIp } : {}) } } : {}),
    ...(timeout !== undefined ? { requestTimeoutMs: timeout } : {}),
    ...(cors ? { corsOrigins: cors } : {}),
    ...(internal ? { internalNetworks: internal } : {}),
    ...(proxy !== undefined ? { trustProxy: proxy } : {}),
    ...(flags.accessLog === false ? { accessLog: false } : {}),
  };
}
