import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens. The admin token comes from ORDO_ADMIN_TOKEN or is generated at
 * start. Customer tokens are `cust.<customerId>.<hmac>`: stateless, signed with a
 * server secret, and act only for that customer.
 */
export type Principal = { kind: 'admin' } | { kind: 'customer'; customerId: string };

export interface TokenService {
  readonly adminToken: string;
  customerToken(customerId: string): string;
  verify(authorization: string | undefined): Principal | undefined;
}

const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createTokenService(options: { adminToken?: string; secret?: string } = {}): TokenService {
  const adminToken = options.adminToken && options.adminToken.length > 0 ? options.adminToken : `adm_${randomBytes(18).toString('base64url')}`;
  const secret = options.secret ?? adminToken;
  const sign = (customerId: string) => createHmac('sha256', secret).update(`customer:${customerId}`).digest('base64url');
  return {
    adminToken,
    customerToken(customerId) {
      if (!CUSTOMER_ID.test(customerId)) throw new RangeError('customerId must be 1-64 of A-Z a-z 0-9 _ -');
      return `cust.${customerId}.${sign(customerId)}`;
    },
    verify(authorization) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      const token = m?.[1];
      if (!token) return undefined;
      if (same(token, adminToken)) return { kind: 'admin' };
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== 'cust') return undefined;
      const [, customerId = '', mac = ''] = parts;
      return CUSTOMER_ID.test(customerId) && same(mac, sign(customerId)) ? { kind: 'customer', customerId } : undefined;
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
