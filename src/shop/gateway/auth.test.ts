import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenService, DEFAULT_TOKEN_TTL_SECONDS } from './auth.js';

const bearer = (t: string) => `Bearer ${t}`;

describe('customer tokens', () => {
  it('carry an id and an expiry, and act for their customer until then', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const tokens = createTokenService({ secret: 's'.repeat(43), now: () => now });
    const minted = tokens.mint('alice', 60);
    expect(minted.tokenId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(minted.expiresAt).toBe('2030-01-01T00:01:00.000Z');
    expect(tokens.verify(bearer(minted.token))).toEqual({ kind: 'customer', customerId: 'alice', tokenId: minted.tokenId, expiresAt: Date.parse(minted.expiresAt) });
    now += 59_999;
    expect(tokens.verify(bearer(minted.token))?.kind).toBe('customer');
    now += 1;
    expect(tokens.verify(bearer(minted.token))).toBeUndefined();
  });

  it('get a fresh id each time and the default lifetime', () => {
    const tokens = createTokenService();
    const a = tokens.mint('alice');
    const b = tokens.mint('alice');
    expect(a.tokenId).not.toBe(b.tokenId);
    expect(Date.parse(a.expiresAt) - Date.now()).toBeGreaterThan((DEFAULT_TOKEN_TTL_SECONDS - 60) * 1000);
  });

  it('are not signed with the admin token: knowing it does not let anyone forge one', () => {
    const adminToken = 'adm_known-to-the-operator';
    const tokens = createTokenService({ adminToken });
    const forge = (body: string, data: string) => `${body}.${createHmac('sha256', adminToken).update(data).digest('base64url')}`;
    // The format signed with the admin token before ORDO_TOKEN_SECRET existed …
    expect(tokens.verify(bearer(forge('cust.mallory', 'customer:mallory')))).toBeUndefined();
    // … and today's format with the admin token as the key.
    const body = `cust.mallory.AAAAAAAAAAAAAAAA.${Math.floor(Date.now() / 1000) + 3600}`;
    expect(tokens.verify(bearer(forge(body, `ordo-customer-token:${body}`)))).toBeUndefined();
  });

  it('from another secret, tampered or reshaped, are refused', () => {
    const tokens = createTokenService({ secret: 'one'.repeat(15) });
    const other = createTokenService({ secret: 'two'.repeat(15) });
    const t = tokens.mint('alice').token;
    expect(other.verify(bearer(t))).toBeUndefined();
    const [c, , id, exp, mac] = t.split('.');
    expect(tokens.verify(bearer([c, 'bob', id, exp, mac].join('.')))).toBeUndefined();
    expect(tokens.verify(bearer([c, 'alice', id, String(Number(exp) + 3600), mac].join('.')))).toBeUndefined();
    expect(tokens.verify(bearer(`${t}x`))).toBeUndefined();
    expect(tokens.verify(t)).toBeUndefined();
    expect(tokens.verify(undefined)).toBeUndefined();
  });

  it('refuse a customer id or lifetime out of range when minted', () => {
    const tokens = createTokenService();
    expect(() => tokens.mint('a.b')).toThrow(RangeError);
    expect(() => tokens.mint('alice', 0)).toThrow(RangeError);
    expect(() => tokens.mint('alice', 10 ** 9)).toThrow(RangeError);
  });
});

describe('the admin token', () => {
  it('is recognised exactly and named in the audit by a fingerprint, not by itself', () => {
    const tokens = createTokenService({ adminToken: 'adm_secret-value' });
    const p = tokens.verify(bearer('adm_secret-value'));
    expect(p?.kind).toBe('admin');
    expect(p?.kind === 'admin' && p.actor).toMatch(/^admin:[0-9a-f]{12}$/);
    expect(JSON.stringify(p)).not.toContain('secret-value');
    for (const near of ['adm_secret-valu', 'adm_secret-value ', 'adm_secret-valuex', 'ADM_SECRET-VALUE']) expect(tokens.verify(bearer(near))?.kind).not.toBe('admin');
  });
});
