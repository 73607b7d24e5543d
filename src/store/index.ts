export type { Db, Queryable, QueryResult, Engine, Statement, ReadingStatement } from './db.js';
export { runStatements } from './statement-script.js';
export { openPostgres, ensurePostgresDatabase, dropPostgresDatabase, type PostgresOptions } from './postgres-db.js';
export { openPglite, pgliteDb, type PgliteOptions } from './pglite-db.js';
export { openSharedPglite, type SharedPglite, type SharedPgliteOptions } from './pglite-shared.js';
export { startPglite, snapshotPglite, PgliteSnapshot, type StartPgliteOptions } from './pglite-start.js';
export {
  ExpectedVersionConflictError,
  DuplicateMessageIdError,
  InvalidStoreInputError,
  MigrationError,
  StoreNotMigratedError,
  type ExpectedVersion,
} from './errors.js';
export { migrate, type Migration, type MigrateResult } from './migrate.js';
export { migrateStore, storeMigrations, STORE_MIGRATION_SCOPE, LOG_CHANNEL } from './store-migrations.js';
export type { NewMessage, StoredMessage } from './stored-message.js';
export { appendToStream, appendToStreams, appendToStreamsStatement, streamVersion, type AppendResult, type StreamAppend } from './append.js';
export { readStream, type ReadStreamOptions } from './read-stream.js';
export { readAll, readAllNotingHeld, readOutgoingNotingHeld, readAllVisible, lastGlobalPosition, LOG_START, compareGlobalPositions, globalPositionOf, type GlobalPosition } from './read-all.js';
export { loadCheckpoint, loadCheckpointStatement, readAfterCheckpointStatement, saveCheckpoint, saveCheckpointStatement } from './checkpoints.js';
export { preparedStatement } from './prepared.js';
export { jsonbArraySql, jsonArrayText } from './jsonb-array.js';
export { GENERIC_PLANS } from './script-prepared.js';
export type { StructuredLogger } from './logger.js';
export { createWakeup, type Wakeup } from './wakeup.js';
export { logBacklog, type LogBacklog } from './log-backlog.js';
export { recordInbox, recordInboxMany, recordInboxStatement, recordInboxAllStatement, inboxContains, handleOnce, type HandleOnceResult } from './inbox.js';
export {
  startOutboxRelay,
  defaultRelayMessage,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayStats,
  type RelayMessage,
  type RelayTarget,
} from './outbox-relay.js';
export { oldestReader, heldStreams, removeStreams, trimOutbox, pruneInbox, readArchivedStream, type OldestReader, type RemovedStreams, type RetentionMode } from './retention.js';
export { vacuumWhereNeeded, vacuumState, type VacuumMode, type VacuumDecision } from './vacuum.js';
