import { mkdirSync } from 'node:fs';
import { appendsToLog, unsettle } from './commit-wakeup.js';
import type { Db } from './db.js';
import { pgliteSession, pgliteStatement, pgliteTransaction } from './pglite-session.js';
import { startPglite } from './pglite-start.js';
import { LOG_CHANNEL } from './store-migrations.js';

/*
 * One embedded PostgreSQL for several services. A PGlite instance costs ~160 MB of WASM
 * memory and code however little it holds, so four services on four instances held over a
 * gigabyte. Here each service gets a schema and a role of its own in one cluster: its
 * tables live in its schema, it runs as its role (SET ROLE), and that role may use no
 * other service's schema, so a service cannot read or write another's data by mistake
 * (code in the same process could still SET ROLE: a guard, not a security boundary); the
 * services keep talking only through messages. PGlite has one connection: every
 * statement and transaction goes through one queue here, and the role and search path
 * are switched when the next one belongs to another service.
 */

export interface SharedPgliteOptions {
  /** Directory of the cluster (created if new); omit for an in-memory one (tests). */
  readonly dataDir?: string;
  /** `shared_buffers` of the cluster (default 16MB: the shop's working set is small, and every MB is resident). */
  readonly sharedBuffers?: string;
}

export interface SharedPglite {
  /** The database of `owner`: its own schema and role, created on first use. */
  open(owner: string): Promise<Db>;
  /** Closes the cluster (also done when the last opened Db is closed). */
  close(): Promise<void>;
}

const OWNER = /^[a-z][a-z0-9_]{0,62}$/;

/** Opens (or creates) one PGlite cluster whose databases are the schemas of their owners. */
export async function openSharedPglite(options: SharedPgliteOptions = {}): Promise<SharedPglite> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await startPglite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    settings: { shared_buffers: options.sharedBuffers ?? '16MB', work_mem: '2MB', maintenance_work_mem: '16MB', temp_buffers: '2MB' },
  });
  await pglite.exec('REVOKE ALL ON SCHEMA public FROM PUBLIC');
  let queue: Promise<unknown> = Promise.resolve();
  let current: string | undefined;
  let open = 0;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= pglite.close());

  /** Runs `fn` alone on the connection, as `owner`. */
  const as = <T>(owner: string, fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(async () => {
      if (current !== owner) {
        await pglite.exec(`SET ROLE ${owner}; SET search_path TO ${owner}`);
        current = owner;
      }
      return fn();
    });
    queue = next.catch(() => undefined);
    return next;
  };

  const byOwner = new Map<string, Map<string, Set<() => void>>>();
  const listenersOf = (owner: string): Map<string, Set<() => void>> => {
    let m = byOwner.get(owner);
    if (!m) byOwner.set(owner, (m = new Map<string, Set<() => void>>()));
    return m;
  };

  const openDb = async (owner: string): Promise<Db> => {
    if (!OWNER.test(owner)) throw new Error(`not a database owner name: ${owner}`);
    await as('postgres', () =>
      pglite.exec(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${owner}') THEN CREATE ROLE ${owner} NOLOGIN; END IF;
        END $$;
        CREATE SCHEMA IF NOT EXISTS ${owner} AUTHORIZATION ${owner};
        REVOKE ALL ON SCHEMA ${owner} FROM PUBLIC;
      `),
    );
    open += 1;
    let done = false;
    // Every writer of this schema is in this process (through any Db opened for it): its log's
    // readers are woken directly after an appending commit (LISTEN's job on a server).
    const listeners = listenersOf(owner);
    const appended = (): void => {
      for (const fn of listeners.get(LOG_CHANNEL) ?? []) fn();
    };
    /** This owner's statements PREPAREd in the shared session, under names of its own (pglite-session.ts). */
    const at = pgliteSession(pglite, `_${owner}`);
    return {
      engine: 'pglite',
      describe: `pglite:${options.dataDir ?? 'memory'} (schema ${owner})`,
      async query<R extends object>(sql: string, params?: readonly unknown[]) {
        const r = await as(owner, () => pgliteStatement<R>(pglite, at, false, sql, params));
        if (appendsToLog(sql)) appended();
        return r;
      },
      exec: (sql) => as(owner, async () => void (await pglite.exec(sql))),
      async transaction(fn) {
        const { settled, appended: wrote } = await as(owner, () => pgliteTransaction(pglite, at, fn));
        if (wrote) appended();
        return unsettle(settled);
      },
      listen(channel, onNotify) {
        const set = listeners.get(channel) ?? new Set();
        listeners.set(channel, set);
        const own = (): void => onNotify(); // a listener added twice is two listeners
        set.add(own);
        return Promise.resolve(() => Promise.resolve(void set.delete(own)));
      },
      wakesOwnListeners: true,
      close: async () => {
        if (done) return;
        done = true;
        open -= 1;
        if (open === 0) await queue.then(close);
      },
    };
  };
  return { open: openDb, close: () => queue.then(close) };
}
