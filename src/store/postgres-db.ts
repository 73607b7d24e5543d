import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.js';
import { concatenated, runInTurn, scriptOf } from './statement-script.js';
import { appendsToLog, commitWakeup, logNotification, noticingAppends } from './commit-wakeup.js';
import { postgresListener } from './postgres-listen.js';
import { preparedName } from './prepared.js';
import { forgetStalePrepared, GENERIC_PLANS, PLANS_AS_BEFORE, prepareForScript } from './script-prepared.js';
import { LOG_CHANNEL } from './store-migrations.js';

export interface PostgresOptions {
  readonly url: string;
  /** Pool size; PostgreSQL's own durability settings are never changed. */
  readonly max?: number;
  readonly applicationName?: string;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function run<R extends object>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  // A marked statement is parsed and planned once per connection (prepared.ts).
  const name = params === undefined ? undefined : preparedName(sql);
  const r = name === undefined ? await client.query<R>(sql, params as unknown[] | undefined) : await client.query<R>({ name, text: sql, values: params as unknown[] });
  return { rows: r.rows, rowCount: r.rowCount ?? 0 };
}

/** A real PostgreSQL server through a `pg` pool. */
export function openPostgres(options: PostgresOptions): Db {
  const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10, application_name: options.applicationName ?? 'ordo' });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // After an appending commit this Db's own log readers are woken at once, in-process; the
  // NOTIFY (named for this Db, which its own listener skips) wakes the other processes'.
  const self = randomUUID();
  const listener = postgresListener(options.url, options.applicationName ?? 'ordo', self);
  const notify = commitWakeup((sql) => pool.query(sql), self);
  const notification = logNotification(self);
  const wakeup = {
    /** After an appending commit; `notified`: it carried its notification (the other processes are told already). */
    committed(notified = false): void {
      listener.wake(LOG_CHANNEL);
      if (!notified) notify.committed();
    },
  };
  const notifyQueue = notifyQueueRoom((sql) => pool.query(sql));
  return {
    engine: 'postgres',
    describe: redact(options.url),
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const r = await run<R>(pool, sql, params);
      if (appendsToLog(sql)) wakeup.committed(); // autocommit: committed already
      return r;
    },
    // Without parameters `pg` uses the simple protocol, which accepts several statements.
    exec: async (sql) => void (await pool.query(sql)),
    async transaction(fn) {
      const client = await pool.connect();
      // BEGIN goes with the transaction's first statement, in the same round trip (its
      // parameters inlined, statement-script.ts), and not at all when the function runs none.
      let begun = false;
      let committed = false;
      // An appending transaction's COMMIT carries the log's notification in the same round trip:
      // the NOTIFY runs after the COMMIT, in a transaction of its own (as the separate one did,
      // so it never holds the notify lock through this commit's flush), and not at all when the
      // COMMIT fails. Only while the server's notify queue has room (notifyQueue below): a
      // NOTIFY refused for a full queue would fail the round trip of a COMMIT that succeeded.
      let notifiedAtCommit = false;
      const commitWith = async (sql: string): Promise<pg.QueryResult | pg.QueryResult[]> => {
        const withNotify = noticed.appended() && notifyQueue.roomy();
        const raw = (await client.query(withNotify ? `${sql};\n${notification}` : sql)) as pg.QueryResult | pg.QueryResult[];
        notifiedAtCommit = withNotify;
        return raw;
      };
      const begin = async (): Promise<void> => {
        if (begun) return;
        begun = true;
        await client.query('BEGIN');
      };
      const own: Queryable = {
        async query(sql, params) {
          const executeAs = begun ? undefined : await prepareForScript(client, [{ sql, params }], false);
          const script = executeAs ? scriptOf([{ sql, params }], executeAs) : undefined;
          if (script === undefined) return (await begin(), run(client, sql, params));
          begun = true;
          const generic = executeAs?.(sql) !== undefined;
          const raw = (await client.query(generic ? `BEGIN;\n${GENERIC_PLANS};\n${script};\n${PLANS_AS_BEFORE}` : `BEGIN;\n${script}`)) as pg.QueryResult | pg.QueryResult[];
          const r = Array.isArray(raw) ? raw[generic ? 2 : 1] : raw;
          return { rows: (r?.rows ?? []) as never[], rowCount: r?.rowCount ?? 0 };
        },
        exec: async (sql) => (await begin(), void (await client.query(sql))),
        async batch(statements, options) {
          const executeAs = await prepareForScript(client, statements, begun);
          const script = scriptOf(statements, executeAs);
          if (script === undefined) {
            await begin();
            const results = await runInTurn(own, statements);
            if (options?.commit) {
              await commitWith('COMMIT');
              committed = true;
            }
            return results;
          }
          const withBegin = !begun;
          begun = true;
          // Around prepared statements, their generic plan (script-prepared.ts), for this script only.
          const generic = statements.some((s) => executeAs(s.sql) !== undefined);
          const before = [...(withBegin ? ['BEGIN'] : []), ...(generic ? [GENERIC_PLANS] : [])];
          const after = [...(generic ? [PLANS_AS_BEFORE] : []), ...(options?.commit ? ['COMMIT'] : [])];
          const text = concatenated([...before, script, ...after], ';\n');
          const raw = options?.commit ? await commitWith(text) : ((await client.query(text)) as pg.QueryResult | pg.QueryResult[]);
          if (options?.commit) committed = true;
          const all = Array.isArray(raw) ? raw : [raw];
          return all.slice(before.length, before.length + statements.length).map((r) => ({ rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 }));
        },
      };
      const noticed = noticingAppends(own);
      try {
        const result = await fn(noticed.tx);
        if (begun && !committed) await commitWith('COMMIT');
        committed = true;
        if (noticed.appended()) wakeup.committed(notifiedAtCommit);
        return result;
      } catch (err) {
        if (begun && !committed) await client.query('ROLLBACK').catch(() => undefined);
        // Its last batch committed before it threw: what it appended is there, so wake its readers.
        else if (committed && noticed.appended()) wakeup.committed(notifiedAtCommit);
        await forgetStalePrepared(client, err);
        throw err;
      } finally {
        client.release();
      }
    },
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    wakesOwnListeners: true,
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

/**
 * Whether the server's notify queue has room, as last seen: asked again, without waiting for
 * the answer, at most every 10 s (a queue fills only behind a listener that stopped reading
 * for a long time; 8 GB by default). Room means under half full.
 */
function notifyQueueRoom(ask: (sql: string) => Promise<pg.QueryResult>): { roomy(): boolean } {
  let roomy = true;
  let askedAt = 0;
  return {
    roomy() {
      const now = Date.now();
      if (now - askedAt >= 10_000) {
        askedAt = now;
        ask('SELECT pg_notification_queue_usage() < 0.5 AS roomy')
          .then((r) => void (roomy = (r.rows[0] as { roomy?: unknown } | undefined)?.roomy !== false))
          .catch(() => undefined);
      }
      return roomy;
    },
  };
}

/** Creates the database if it does not exist (each service owns its own database). */
export async function ensurePostgresDatabase(adminUrl: string, name: string): Promise<string> {
  checkDatabaseName(name);
  await withAdmin(adminUrl, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err; // created concurrently
      });
    }
  });
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops the database if it exists, disconnecting its sessions (scratch and test databases). */
export async function dropPostgresDatabase(adminUrl: string, name: string): Promise<void> {
  checkDatabaseName(name);
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

function checkDatabaseName(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new RangeError(`invalid database name ${name}`);
}

async function withAdmin(adminUrl: string, fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}
