import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/index.js';
import { migrate } from '../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/index.js';
import { gatewayMigrations } from './gateway-migrations.js';
import { loadTokenSecret, sqlTokenRevocations, TOKEN_SECRET_FILE, TokenSecretError } from './token-store.js';

const log = silentLogger();

describe('the token signing secret', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'ordo-secret-'));
    dirs.push(d);
    return join(d, 'data');
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('embedded: is generated on first start into <data-dir>/token-secret, owner-only, and the same on the next start', async () => {
    const dir = await tempDir();
    const first = await loadTokenSecret(undefined, { kind: 'file', dir }, log);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(first.source).toBe(join(dir, TOKEN_SECRET_FILE));
    expect((await stat(join(dir, TOKEN_SECRET_FILE))).mode & 0o777).toBe(0o600);
    expect((await loadTokenSecret(undefined, { kind: 'file', dir }, log)).secret).toBe(first.secret);
  });

  it('embedded: a secret file others can read is made owner-only; a short one is refused', async () => {
    const dir = await tempDir();
    await loadTokenSecret(undefined, { kind: 'file', dir }, log);
    await chmod(join(dir, TOKEN_SECRET_FILE), 0o644);
    await loadTokenSecret(undefined, { kind: 'file', dir }, log);
    expect((await stat(join(dir, TOKEN_SECRET_FILE))).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, TOKEN_SECRET_FILE), 'short\n');
    await expect(loadTokenSecret(undefined, { kind: 'file', dir }, log)).rejects.toThrow(TokenSecretError);
  });

  it('ORDO_TOKEN_SECRET wins, and must be long enough', async () => {
    const env = 'x'.repeat(40);
    expect(await loadTokenSecret(env, { kind: 'memory' }, log)).toEqual({ secret: env, source: 'ORDO_TOKEN_SECRET' });
    await expect(loadTokenSecret('too-short', { kind: 'memory' }, log)).rejects.toThrow(/at least 32/);
  });

  const engines: [string, () => Promise<FreshDatabase>][] = [
    ['pglite', () => freshPglite()],
    ['postgres', () => freshPostgres('tokens')],
  ];
  it.each(engines)('server layout (%s): kept in the gateway database, so every replica signs and verifies alike; revocations too', async (_name, open) => {
    const fresh = await open();
    try {
      await migrate(fresh.db, gatewayMigrations, 'gateway');
      const [a, b] = await Promise.all([loadTokenSecret(undefined, { kind: 'database', db: fresh.db }, log), loadTokenSecret(undefined, { kind: 'database', db: fresh.db }, log)]);
      expect(a.secret).toBe(b.secret);
      expect(a.source).toBe('gateway_secrets table');
      const revocations = sqlTokenRevocations(fresh.db);
      expect(await revocations.isRevoked('AAAAAAAAAAAAAAAA')).toBe(false);
      const first = await revocations.revoke('AAAAAAAAAAAAAAAA', 'admin:test', 'lost laptop');
      expect(first.alreadyRevoked).toBe(false);
      expect(await revocations.isRevoked('AAAAAAAAAAAAAAAA')).toBe(true);
      const again = await revocations.revoke('AAAAAAAAAAAAAAAA', 'admin:other');
      expect(again).toEqual({ tokenId: 'AAAAAAAAAAAAAAAA', revokedAt: first.revokedAt, alreadyRevoked: true });
    } finally {
      await fresh.close();
    }
  });
});
