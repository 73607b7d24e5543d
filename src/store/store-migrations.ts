import type { Db } from './db.js';
import { migrate, type MigrateResult, type Migration } from './migrate.js';

/** The scope under which the store's own tables are recorded in `ordo_migrations`. */
export const STORE_MIGRATION_SCOPE = 'ordo_store';

/** The store's tables: the message log, projection/relay checkpoints and the inbox. See README.md. */
export const storeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'message log',
    sql: `
      CREATE TABLE ordo_messages (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        id text NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ordo_messages_stream_version_key UNIQUE (stream, stream_version),
        CONSTRAINT ordo_messages_id_key UNIQUE (id)
      );
      -- readAll scans in (transaction id, position) order from a checkpoint.
      CREATE INDEX ordo_messages_global_order ON ordo_messages (tx_id, position);
    `,
  },
  {
    version: 2,
    name: 'checkpoints',
    sql: `
      CREATE TABLE ordo_checkpoints (
        name text PRIMARY KEY,
        tx_id xid8 NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: 'inbox',
    sql: `
      CREATE TABLE ordo_inbox (
        consumer text NOT NULL,
        message_id text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      );
    `,
  },
  {
    version: 4,
    name: 'append function',
    // A function, not one big statement per call: PL/pgSQL keeps its plans per connection,
    // which makes a single-message append about as cheap as a plain INSERT. See append.ts.
    sql: `
      CREATE OR REPLACE FUNCTION ordo_append(p_stream text, p_expected integer, p_messages jsonb)
      RETURNS TABLE (version integer, in_order boolean, positions text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_version integer;
        v_tx xid8;
      BEGIN
        IF p_expected IS NULL THEN
          -- 'any': serialise appenders of this stream so none loses the race (a new snapshot follows).
          PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 7));
        END IF;
        SELECT m.stream_version, m.tx_id INTO v_version, v_tx
          FROM ordo_messages m WHERE m.stream = p_stream ORDER BY m.stream_version DESC LIMIT 1;
        v_version := coalesce(v_version, 0);
        IF v_tx IS NOT NULL AND v_tx > pg_current_xact_id() THEN
          RETURN QUERY SELECT v_version, false, NULL::text;
          RETURN;
        END IF;
        IF p_expected IS NOT NULL AND v_version <> p_expected THEN
          RETURN QUERY SELECT v_version, true, NULL::text;
          RETURN;
        END IF;
        RETURN QUERY
          WITH ins AS (
            INSERT INTO ordo_messages (stream, stream_version, id, type, data, metadata)
            SELECT p_stream, v_version + e.ord::integer, e.m->>'id', e.m->>'type', e.m->'data', e.m->'metadata'
              FROM jsonb_array_elements(p_messages) WITH ORDINALITY AS e(m, ord)
              ORDER BY e.ord -- positions follow stream versions within the batch
            RETURNING ordo_messages.position
          )
          SELECT v_version, true, (SELECT string_agg(ins.position::text, ',' ORDER BY ins.position) FROM ins);
      END
      $fn$;
    `,
  },
  {
    version: 5,
    name: 'relay lease',
    // One outbox relay per checkpoint name publishes at a time; others wait for the lease.
    sql: `ALTER TABLE ordo_checkpoints ADD COLUMN owner text, ADD COLUMN lease_until timestamptz`,
  },
  {
    version: 6,
    name: 'read horizon of this database',
    // readAll reads transactions below this horizon. pg_snapshot_xmin alone is the oldest
    // transaction running anywhere in the cluster, so one long transaction in another
    // database (a report, a migration, another application) held every reader back.
    // A transaction's database never changes, so one that another database's backend
    // holds cannot write this log; an in-progress id whose backend cannot be found (it
    // just ended, a prepared transaction, stats hidden) still counts: never skip a row.
    // Returns the snapshot's xmax when nothing of this database is in progress.
    sql: `
      CREATE OR REPLACE FUNCTION ordo_read_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $fn$
        SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
        FROM pg_snapshot_xip(pg_current_snapshot()) AS x
        WHERE NOT EXISTS (
          SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'transactionid' AND l.granted AND l.transactionid = xid(x)
            AND a.datid IS NOT NULL
            AND a.datid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))
      $fn$;
    `,
  },
  {
    version: 7,
    name: 'retention',
    // Retention moves whole streams here (mode 'archive') once every reader has passed them,
    // so the hot log stays the size of the work in progress. The archive is for audits and
    // exports; nothing reads it on the hot path. Inbox pruning scans by age (one index;
    // outbox trimming walks the global-order index from its start instead).
    sql: `
      CREATE TABLE ordo_messages_archive (
        position bigint PRIMARY KEY,
        tx_id xid8 NOT NULL,
        stream text NOT NULL,
        stream_version integer NOT NULL,
        id text NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ordo_messages_archive_stream ON ordo_messages_archive (stream, stream_version);
      CREATE INDEX ordo_inbox_handled_at ON ordo_inbox (handled_at);
    `,
  },
  {
    version: 8,
    name: 'wake readers on commit',
    // Each transaction that appends to the log notifies LOG_CHANNEL once (PostgreSQL folds a
    // transaction's identical notifications into one and delivers it at commit), so relays
    // in any process read at once instead of at their next poll.
    sql: `
      CREATE OR REPLACE FUNCTION ordo_notify_log() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('ordo_log', '');
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER ordo_messages_notify AFTER INSERT ON ordo_messages
        FOR EACH STATEMENT EXECUTE FUNCTION ordo_notify_log();
    `,
  },
  {
    version: 9,
    name: 'wake readers after commit, not inside it',
    // A NOTIFY inside a transaction takes PostgreSQL's cluster-wide notify-queue lock at
    // commit and holds it through the WAL flush, so every appending transaction of every
    // database on the server committed one after another (measured: 16 writers, 2,600
    // commits/s without it, 600–860 with it). The Db now sends the notification after the
    // commit instead (commit-wakeup.ts), coalesced, on a connection of its own.
    sql: `
      DROP TRIGGER IF EXISTS ordo_messages_notify ON ordo_messages;
      DROP FUNCTION IF EXISTS ordo_notify_log();
    `,
  },
  {
    version: 10,
    name: 'conflicts raised by a statement',
    // A statement that checks what it just did (an append's expected version, an update's
    // revision guard) inside a script that also commits must fail *before* the commit:
    // ordo_conflict raises a serialization failure (40001, retried like any lost race)
    // whose message names the conflict and whose detail carries it as JSON.
    sql: `
      CREATE OR REPLACE FUNCTION ordo_conflict(p_message text, p_detail text) RETURNS integer LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = p_message, DETAIL = p_detail;
      END $$;
    `,
  },
  {
    version: 11,
    name: 'read horizon: lock table read once',
    // Migration 6's horizon, same rule, but its NOT EXISTS was correlated with each
    // in-progress id: pg_locks and pg_stat_activity were built again for every id in the
    // snapshot, and every log read (each relay and projector round) paid for it. With ~20
    // transactions in progress on the server that was 20–60 ms of the server's CPU per
    // read; as an uncorrelated NOT IN (one hashed lookup) 1–8 ms. An id is still skipped
    // only when another database's backend is seen holding it.
    sql: `
      CREATE OR REPLACE FUNCTION ordo_read_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $fn$
        SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
        FROM pg_snapshot_xip(pg_current_snapshot()) AS x
        WHERE xid(x) NOT IN (
          SELECT l.transactionid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'transactionid' AND l.granted AND l.transactionid IS NOT NULL
            AND a.datid IS NOT NULL
            AND a.datid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))
      $fn$;
    `,
  },
  {
    version: 12,
    name: 'read horizon: planned once per connection, without the lock table',
    // Migration 11's rule, found more cheaply. As a SQL function its body was planned again
    // at every call, and planning pg_locks and pg_stat_activity cost the server 5–6 ms per
    // log read on the bench shop at 30 orders/s (most of PostgreSQL's CPU there); PL/pgSQL
    // keeps the plan for the connection. And pg_locks takes every lock partition of the
    // server to list every lock, while each backend's top transaction id is in
    // pg_stat_get_activity (no lock taken; shown to every role, unlike the query text). An
    // id a backend of another database holds is skipped; every other id counts, as before
    // (one that just ended, a prepared transaction's).
    sql: `
      CREATE OR REPLACE FUNCTION ordo_read_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $fn$
      BEGIN
        RETURN (
          SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
          FROM pg_snapshot_xip(pg_current_snapshot()) AS x
          WHERE xid(x) NOT IN (
            SELECT a.backend_xid FROM pg_stat_get_activity(NULL) a
            WHERE a.backend_xid IS NOT NULL AND a.datid IS NOT NULL
              AND a.datid <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())));
      END
      $fn$;
    `,
  },
];

/** The channel notified after every commit that appended to the log (commit-wakeup.ts; migration 8 did it inside the commit). */
export const LOG_CHANNEL = 'ordo_log';

/** Creates or upgrades the store's tables; call once when a service starts. */
export function migrateStore(db: Db): Promise<MigrateResult> {
  return migrate(db, storeMigrations, STORE_MIGRATION_SCOPE);
}
