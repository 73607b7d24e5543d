import { migrate, type Db, type MigrateResult, type Migration } from '../store/index.js';

export const EVENTSOURCING_MIGRATION_SCOPE = 'eventsourcing';

/** Snapshots of aggregate state and the rebuild history of projections. Needs the store's tables. */
export const eventsourcingMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'snapshots and projections',
    sql: `
      CREATE TABLE ordo_snapshots (
        stream text PRIMARY KEY,
        -- the stream version the state includes; loading reads only the messages after it
        version integer NOT NULL,
        -- the state's shape (e.g. machine:order@1); a snapshot of another shape is ignored
        state_schema text NOT NULL,
        state jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ordo_projections (
        name text PRIMARY KEY,
        rebuilds integer NOT NULL DEFAULT 0,
        last_rebuilt_at timestamptz,
        last_rebuild_messages bigint
      );
    `,
  },
];

/** Creates or upgrades the event-sourcing tables (after `migrateStore`). */
export function migrateEventsourcing(db: Db): Promise<MigrateResult> {
  return migrate(db, eventsourcingMigrations, EVENTSOURCING_MIGRATION_SCOPE);
}
