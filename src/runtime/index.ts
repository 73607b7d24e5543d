export { createSagaEngine, type SagaEngine, type SagaEngineOptions, type SagaInstance, type EngineLogger } from './saga-engine.js';
export type { FirstEvent, IncomingMessage, WorkResult } from './work-item.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export { STEP_FAILED, StepFailedPayload } from './step-failed.js';
export { defaultRetryPolicy, backoffDelay, type RetryPolicy } from './retry-policy.js';
export type { TopicMapping } from './topics.js';
export { runtimeMigrations, RUNTIME_MIGRATION_SCOPE } from './runtime-migrations.js';
export { failureEventFor } from './machine-registry.js';
export { StepFailureUnhandledError, InvalidStepFailedError, ForgedTimerEventError } from './apply-event.js';
export {
  MachineVersionMissingError,
  UnknownMachineError,
  SagaNotFoundError,
  DeadLetterNotFoundError,
  RevisionConflictError,
  EngineStoppedError,
  InvalidEngineOptionError,
  InvalidSagaInputError,
} from './errors.js';
export type { PendingCommand, SagaStatus } from './working-instance.js';
export { subscribeSagaEngine } from './transport-wiring.js';
export {
  createReconciler,
  InvalidReconcilerOptionError,
  ReconcilerTimeoutError,
  type Reconciler,
  type ReconcilerOptions,
  type ReconcilerCheck,
  type Discrepancy,
  type Reconciliation,
  type RoundReport,
  type CheckReport,
  type ReconcilerStats,
} from './reconciler.js';
export { reconcilerMigrations, RECONCILER_MIGRATION_SCOPE, type ReconciliationOutcome, type ListFilter as ReconciliationFilter } from './reconciler-sql.js';
export {
  runSagaRetention,
  runOutboxRetention,
  startRetention,
  RetentionRaceError,
  checkRetentionPolicy,
  retentionMigrations,
  RETENTION_MIGRATION_SCOPE,
  type RetentionPolicy,
  type RetentionReport,
  type RetentionLoop,
  type RetentionLoopOptions,
  type SagaStreams,
} from './retention.js';
export { migrateSagas, migrationMachines, MigrationRefusedError, type MigrateSagasOptions, type MigrationProgress, type MigrationReport } from './saga-migration.js';
export { sagaVersionCounts, migrationPlan, listMigrationRuns, type VersionCount, type PlannedMove, type MigrationRun } from './saga-migration-sql.js';
