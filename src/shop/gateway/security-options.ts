import { BlockList, isIP } from 'node:net';

/** The gateway's protections (README "Security"); `ordo start` flags set them. */
export interface GatewaySecurityOptions {
  /**
   * Requests per minute: per customer token, and per client IP for every request that
   * does not carry the admin token (unauthenticated ones included, so guessing tokens is
   * slow). 0 turns a limit off. The admin token is not limited: it is the operator's.
   */
  readonly rateLimit?: { readonly perToken?: number; readonly perIp?: number };
  /** A request not answered within this many ms gets 503 (default 30 000); also the time a client has to send it. */
  readonly requestTimeoutMs?: number;
  /** Origins allowed to call the API from a browser (CORS); none by default, so no CORS headers are sent. */
  readonly corsOrigins?: readonly string[];
  /**
   * Who may read `GET /metrics` and `GET /openapi.json` without the admin token: CIDRs,
   * `private` (loopback and private networks, the default) or `any`.
   */
  readonly internalNetworks?: readonly string[];
  /** Fastify's `trustProxy`: behind a reverse proxy, take the client IP from X-Forwarded-For (`true`, or the proxies' addresses/CIDRs, comma-separated). */
  readonly trustProxy?: boolean | string;
  /** One line per request on the logger (default on). */
  readonly accessLog?: boolean;
}

export const DEFAULT_RATE_PER_TOKEN = 600;
export const DEFAULT_RATE_PER_IP = 1200;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Loopback, RFC 1918, link-local, carrier-grade NAT, IPv6 unique local and link-local. */
export const PRIVATE_NETWORKS = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10'];

export class NetworkListError extends Error {
  readonly code = 'BAD_NETWORK_LIST';
}

/** `private`, `any`, or CIDRs (a bare address is a /32 or /128). Returns a matcher of client IPs. */
export function networkMatcher(entries: readonly string[]): (ip: string) => boolean {
  if (entries.includes('any')) return () => true;
  const list = new BlockList();
  for (const entry of entries.flatMap((e) => (e === 'private' ? PRIVATE_NETWORKS : [e]))) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new NetworkListError(`"${entry}" is not a network: give private, any, or CIDRs such as 10.0.0.0/8 or fd00::/8`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return (ip) => {
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    const address = v4 ?? ip;
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}
