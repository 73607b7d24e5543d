import { mkdirSync } from 'node:fs';
import type { PGliteInterface } from '@electric-sql/pglite';
import { appendsToLog, commitWakeup, unsettle } from './commit-wakeup.js';
import type { Db } from './db.js';
import { startPglite } from './pglite-start.js';
import { pgliteSession, pgliteStatement, pgliteTransaction } from './pglite-session.js';

export interface PgliteOptions {
  /** Directory for the data; omit for an in-memory database (tests). */
  readonly dataDir?: string;
}

/** A PGlite instance behind the store's `Db` port (closing the Db closes the instance). */
export function pgliteDb(pglite: PGliteInterface, describe: string): Db {
  const wakeup = commitWakeup((sql) => pglite.exec(sql));
  const at = pgliteSession(pglite, '_s');
  return {
    engine: 'pglite',
    describe,
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const r = await pgliteStatement<R>(pglite, at, false, sql, params);
      if (appendsToLog(sql)) wakeup.committed();
      return r;
    },
    exec: async (sql) => void (await pglite.exec(sql)),
    async transaction(fn) {
      const { settled, appended } = await pgliteTransaction(pglite, at, fn);
      if (appended) wakeup.committed();
      return unsettle(settled);
    },
    listen: async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, () => onNotify());
      return () => unlisten();
    },
    close: () => pglite.close(),
  };
}

/**
 * Embedded PostgreSQL (WASM) in this process: no server needed. One connection,
 * and it does not fsync, so it is for trying and testing; production uses a server.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Db> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await startPglite(options.dataDir ? { dataDir: options.dataDir } : {});
  return pgliteDb(pglite, options.dataDir ? `pglite:${options.dataDir}` : 'pglite:memory');
}
