export { foldEvents, type Decider, type DomainEvent } from './decider.js';
export {
  deciderFromMachine,
  transitionData,
  migrationData,
  START,
  TRANSITION,
  MIGRATED,
  type MigrationData,
  type MachineCommand,
  type MachineDecider,
  type MachineRecord,
  type MachineState,
  type TransitionData,
} from './machine-decider.js';
export { DeciderSpecification, type DeciderGiven, type DeciderThen } from './specification.js';
export {
  aggregateStream,
  handleCommand,
  handleCommandInTransaction,
  type CommandResult,
  type HandleCommandOptions,
  type LoadedStream,
  type LoadOptions,
} from './command-handler.js';
export { loadSnapshot, saveSnapshot, snapshotDue, type SnapshotPolicy, type StoredSnapshot } from './snapshots.js';
export { createUpcasters, noUpcasters, schemaVersionOf, SCHEMA_VERSION, type Upcaster, type Upcasters } from './upcasters.js';
export { applyProjection, defineProjection, type Projection, type ProjectionContext } from './projection.js';
export { lockProjection, projectBatch, startProjector, type Projector, type ProjectorOptions, type ProjectorStats } from './projector.js';
export { rebuildProjection, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild.js';
export { readTimeline, timelineOf, type TimelineEntry } from './timeline.js';
export { encodeCursor, decodeCursor, encodeTimeCursor, decodeTimeCursor } from './cursor.js';
export { migrateEventsourcing, eventsourcingMigrations, EVENTSOURCING_MIGRATION_SCOPE } from './eventsourcing-migrations.js';
export {
  ConcurrencyRetriesExhaustedError,
  InvalidCommandError,
  InvalidQueryError,
  ProjectionDefinitionError,
  ReplayMismatchError,
  UnknownProjectionError,
  UpcastError,
} from './errors.js';
