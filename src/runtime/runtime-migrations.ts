import type { Migration } from '../store/index.js';

/** The scope under which the engine's tables are recorded in `ordo_migrations`. */
export const RUNTIME_MIGRATION_SCOPE = 'runtime';

/** The saga engine's tables (see README.md). Timer deadlines are ms on the engine's clock. */
export const runtimeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'saga runtime',
    sql: `
      CREATE TABLE ordo_saga_instances (
        id text PRIMARY KEY,
        machine_id text NOT NULL,
        -- pinned when the instance starts; it runs on this version until it finishes
        machine_version integer NOT NULL,
        state text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'final', 'parked')),
        snapshot jsonb NOT NULL,
        -- the step commands of the current state entry and their send count (for retries)
        pending jsonb NOT NULL DEFAULT '[]'::jsonb,
        revision integer NOT NULL,
        -- number of messages in the instance's stream in the message log
        stream_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ordo_saga_instances_unfinished ON ordo_saga_instances (machine_id, machine_version) WHERE status <> 'final';
      CREATE INDEX ordo_saga_instances_state ON ordo_saga_instances (machine_id, state);

      CREATE TABLE ordo_saga_timers (
        saga_id text NOT NULL,
        timer_id text NOT NULL,
        -- 'machine': an \`after\` timer of the machine; 'step': the engine's resend/reply timeout of a step command
        kind text NOT NULL CHECK (kind IN ('machine', 'step')),
        purpose text NOT NULL DEFAULT 'fire' CHECK (purpose IN ('fire', 'resend', 'timeout')),
        due_at bigint NOT NULL,
        PRIMARY KEY (saga_id, timer_id)
      );
      CREATE INDEX ordo_saga_timers_due ON ordo_saga_timers (due_at);

      CREATE TABLE ordo_dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id text NOT NULL,
        saga_id text,
        message jsonb NOT NULL,
        error_code text NOT NULL,
        reason text NOT NULL,
        -- how many times it was refused (1, plus one per failed replay)
        attempts integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        replayed_at timestamptz
      );
      CREATE INDEX ordo_dead_letters_waiting ON ordo_dead_letters (created_at) WHERE replayed_at IS NULL;

      CREATE TABLE ordo_saga_alerts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        saga_id text NOT NULL,
        kind text NOT NULL,
        detail jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      );
      CREATE INDEX ordo_saga_alerts_open ON ordo_saga_alerts (saga_id) WHERE resolved_at IS NULL;

      -- one row per failed send of a step or compensation command (the retry history)
      CREATE TABLE ordo_command_attempts (
        saga_id text NOT NULL,
        step text NOT NULL,
        compensation boolean NOT NULL,
        seq integer NOT NULL,
        attempt integer NOT NULL,
        retryable boolean NOT NULL,
        error text NOT NULL,
        -- the engine's clock, ms; null when no further send follows
        retry_at bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (saga_id, step, compensation, seq, attempt)
      );
    `,
  },
  {
    version: 2,
    name: 'parked messages, dead-letter origin',
    sql: `
      -- messages that came too early (no saga yet, or a state that cannot take them yet):
      -- not marked in the inbox, tried again when the saga changes state or at next_retry_at
      CREATE TABLE ordo_parked_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id text NOT NULL UNIQUE,
        saga_id text NOT NULL,
        message jsonb NOT NULL,
        error_code text NOT NULL,
        reason text NOT NULL,
        attempts integer NOT NULL DEFAULT 1,
        -- the engine's clock, ms
        parked_at bigint NOT NULL,
        next_retry_at bigint NOT NULL
      );
      CREATE INDEX ordo_parked_messages_saga ON ordo_parked_messages (saga_id);
      CREATE INDEX ordo_parked_messages_retry ON ordo_parked_messages (next_retry_at);
      -- 'message': from outside (deliver); 'timer': one of the engine's timers (replayed as that timer)
      ALTER TABLE ordo_dead_letters ADD COLUMN origin text NOT NULL DEFAULT 'message' CHECK (origin IN ('message', 'timer'));
    `,
  },
  {
    version: 3,
    name: 'saga migration runs',
    sql: `
      -- one row per run of a live migration (ordo migrate, or an engine's migrateOnStart): the audit record
      CREATE TABLE ordo_saga_migration_runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        machine_id text NOT NULL,
        from_version integer NOT NULL,
        to_version integer NOT NULL,
        operator text NOT NULL,
        -- 'running' until it ends; a run a crash interrupted stays 'running' (a rerun resumes its work)
        status text NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'aborted')),
        -- instances on from_version and unfinished when the run started
        planned integer NOT NULL,
        -- moved to to_version (counted in each batch's own transaction)
        migrated integer NOT NULL DEFAULT 0,
        -- refused by the mapping (e.g. a context the new version rejects): left on from_version
        failed integer NOT NULL DEFAULT 0,
        batches integer NOT NULL DEFAULT 0,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
    `,
  },
  {
    version: 4,
    name: 'instances by last change',
    // Operators' views of the last minute (the dashboard's sample every few seconds) read the
    // instances changed since then by this index, not every instance kept: with a million
    // finished sagas retained that was a sequential scan per sample.
    sql: `CREATE INDEX IF NOT EXISTS ordo_saga_instances_updated ON ordo_saga_instances (updated_at)`,
  },
  {
    version: 5,
    name: 'parked messages by age',
    // The engine's poll asks first whether anything is due (saga-engine.ts): the oldest parked
    // message, like the next timer and the next retry, is then the first entry of an index.
    sql: `CREATE INDEX IF NOT EXISTS ordo_parked_messages_parked ON ordo_parked_messages (parked_at)`,
  },
];
