import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens. The admin token comes from ORDO_ADMIN_TOKEN or is generated at start.
 * Customer tokens are `cust.<customerId>.<tokenId>.<expiry>.<mac>`: stateless, signed
 * with a secret of their own (ORDO_TOKEN_SECRET, never the admin token), valid until
 * their expiry (Unix seconds) unless their id is revoked, and act only for that customer.
 */
export type Principal = { kind: 'admin'; actor: string } | { kind: 'customer'; customerId: string; tokenId: string; expiresAt: number };

export interface MintedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly customerId: string;
  /** ISO time after which the token is refused. */
  readonly expiresAt: string;
}

export interface TokenService {
  readonly adminToken: string;
  /** A token for `customerId` with the default lifetime (the start banner, tests). */
  customerToken(customerId: string): string;
  mint(customerId: string, ttlSeconds?: number): MintedToken;
  /** Who the `Authorization` header names, by signature and expiry; revocation is checked by the gateway. */
  verify(authorization: string | undefined): Principal | undefined;
}

export interface TokenServiceOptions {
  readonly adminToken?: string;
  /** Signs customer tokens; generated (and lost at exit) when absent. See token-store.ts for where `ordo start` keeps it. */
  readonly secret?: string;
  /** Lifetime of a customer token unless the minting request says otherwise (default 30 days). */
  readonly defaultTtlSeconds?: number;
  /** Unix ms (tests move it). */
  readonly now?: () => number;
}

export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const TOKEN_ID = /^[A-Za-z0-9_-]{16}$/;
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
export const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;
const CUSTOMER_TOKEN = /^cust\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** Equal in time independent of where the inputs differ, and of their lengths (both are hashed first). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function createTokenService(options: TokenServiceOptions = {}): TokenService {
  const adminToken = options.adminToken && options.adminToken.length > 0 ? options.adminToken : `adm_${randomBytes(18).toString('base64url')}`;
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  const now = options.now ?? Date.now;
  const defaultTtl = options.defaultTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const mac = (body: string) => createHmac('sha256', secret).update(`ordo-customer-token:${body}`).digest('base64url');
  // Names the admin token in the audit trail without revealing it (keyed, so not guessable offline).
  const adminActor = `admin:${createHmac('sha256', secret).update(`ordo-admin-actor:${adminToken}`).digest('hex').slice(0, 12)}`;

  function mint(customerId: string, ttlSeconds = defaultTtl): MintedToken {
    if (!CUSTOMER_ID.test(customerId)) throw new RangeError('customerId must be 1-64 of A-Z a-z 0-9 _ -');
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) throw new RangeError(`ttlSeconds must be a whole number from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
    const tokenId = randomBytes(12).toString('base64url');
    const expiry = Math.floor(now() / 1000) + ttlSeconds;
    const body = `cust.${customerId}.${tokenId}.${expiry}`;
    return { token: `${body}.${mac(body)}`, tokenId, customerId, expiresAt: new Date(expiry * 1000).toISOString() };
  }

  return {
    adminToken,
    customerToken: (customerId) => mint(customerId).token,
    mint,
    verify(authorization) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      const token = m?.[1];
      if (!token) return undefined;
      if (same(token, adminToken)) return { kind: 'admin', actor: adminActor };
      const parts = CUSTOMER_TOKEN.exec(token);
      if (!parts) return undefined;
      const [, customerId = '', tokenId = '', expiry = '', signature = ''] = parts;
      if (!same(signature, mac(`cust.${customerId}.${tokenId}.${expiry}`))) return undefined;
      const expiresAt = Number(expiry) * 1000;
      return expiresAt > now() ? { kind: 'customer', customerId, tokenId, expiresAt } : undefined;
    },
  };
}

/** The customer a request acts for: a customer token acts for itself; the admin names one. */
export function actingCustomer(p: Principal, requested: string | undefined): { ok: true; customerId: string } | { ok: false; status: 400 | 403; message: string } {
  if (p.kind === 'customer') {
    if (requested !== undefined && requested !== p.customerId) return { ok: false, status: 403, message: 'a customer token may act only for its own customer' };
    return { ok: true, customerId: p.customerId };
  }
  if (requested === undefined) return { ok: false, status: 400, message: 'customerId: required when acting with the admin token' };
  return { ok: true, customerId: requested };
}
