import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observe/index.js';
import type { Queryable } from '../store/index.js';
import type { TokenRevocations } from './gateway/security-api.js';

/** ORDO_TOKEN_SECRET shorter than this is refused: it signs every customer token. */
export const MIN_TOKEN_SECRET_LENGTH = 32;

export class TokenSecretError extends Error {
  readonly code = 'TOKEN_SECRET';
}

export type TokenSecretPlace = { kind: 'file'; dir: string } | { kind: 'database'; db: Queryable } | { kind: 'memory' };

export const TOKEN_SECRET_FILE = 'token-secret';

const generate = () => randomBytes(32).toString('base64url');

/**
 * The secret that signs customer tokens (never the admin token): ORDO_TOKEN_SECRET when
 * set; otherwise generated on first start and kept where the shop keeps its data, so
 * tokens survive a restart:
 * - embedded (`--data-dir`): the file `<data-dir>/token-secret`, mode 0600 (owner only);
 * - server layout (`--postgres`): the `gateway_secrets` table of the gateway's database,
 *   because every gateway replica must verify the others' tokens and the database is the
 *   one thing they share (its access control guards it);
 * - in-memory PGlite (tests): generated per process.
 */
export async function loadTokenSecret(env: string | undefined, place: TokenSecretPlace, log: Logger): Promise<{ secret: string; source: string }> {
  if (env !== undefined && env !== '') {
    if (env.length < MIN_TOKEN_SECRET_LENGTH) throw new TokenSecretError(`ORDO_TOKEN_SECRET must be at least ${MIN_TOKEN_SECRET_LENGTH} characters (it signs every customer token); got ${env.length}`);
    return { secret: env, source: 'ORDO_TOKEN_SECRET' };
  }
  if (place.kind === 'memory') return { secret: generate(), source: 'generated for this process' };
  if (place.kind === 'database') {
    await place.db.query(`INSERT INTO gateway_secrets (name, value) VALUES ('token-secret', $1) ON CONFLICT (name) DO NOTHING`, [generate()]);
    const row = (await place.db.query<{ value: string }>(`SELECT value FROM gateway_secrets WHERE name = 'token-secret'`)).rows[0];
    if (!row) throw new TokenSecretError('the token secret was not stored in gateway_secrets');
    return { secret: row.value, source: 'gateway_secrets table' };
  }
  const path = join(place.dir, TOKEN_SECRET_FILE);
  await mkdir(place.dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    log.warn({ path, mode: mode.toString(8) }, 'the token secret file was readable by others; set to 0600');
    await chmod(path, 0o600);
  }
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < MIN_TOKEN_SECRET_LENGTH) throw new TokenSecretError(`${path} holds ${secret.length} characters; a token secret needs at least ${MIN_TOKEN_SECRET_LENGTH} (delete the file to have a new one generated)`);
  return { secret, source: path };
}

/** Revoked token ids in the gateway's database, checked on every request that carries a customer token. */
export function sqlTokenRevocations(db: Queryable): TokenRevocations {
  return {
    async isRevoked(tokenId) {
      return (await db.query('SELECT 1 FROM gateway_revoked_tokens WHERE token_id = $1', [tokenId])).rows.length > 0;
    },
    async revoke(tokenId, by, reason) {
      const r = await db.query<{ revoked_at: Date | string; revoked_by: string; inserted: boolean }>(
        `WITH ins AS (INSERT INTO gateway_revoked_tokens (token_id, revoked_by, reason) VALUES ($1, $2, $3) ON CONFLICT (token_id) DO NOTHING RETURNING revoked_at, revoked_by)
         SELECT revoked_at, revoked_by, true AS inserted FROM ins
         UNION ALL SELECT revoked_at, revoked_by, false FROM gateway_revoked_tokens WHERE token_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
        [tokenId, by, reason ?? null],
      );
      const row = r.rows[0];
      return { tokenId, revokedAt: new Date(row?.revoked_at ?? Date.now()).toISOString(), alreadyRevoked: row?.inserted === false };
    },
  };
}
