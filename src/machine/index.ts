export { setup, withDelays, type SetupConfig, type MachineConfig } from './setup.js';
export { transition, start, accepts, isFinal, timerId, delayOfTimer, type TransitionOptions } from './transition.js';
export { compensationPlan, nextCompensation, type PendingCompensation } from './compensation.js';
export { definitionViolations, validateMachine } from './validate.js';
export { edges, adjacency, reachableFrom, type Edge, type EdgeKind } from './graph.js';
export { migrateSnapshot, migrationViolations, mappingOf, type MachineMigration, type StateMapping } from './migration.js';
export { toMermaid } from './mermaid.js';
export { machineToJSON } from './serialize.js';
export { durationMs, type Duration } from './duration.js';
export {
  OrdoError,
  InvalidTransitionError,
  InvalidEventError,
  MachineDefinitionError,
  SnapshotMismatchError,
  NondeterminismError,
  MigrationError,
  type DefinitionViolation,
} from './errors.js';
export { TIMER_EVENT } from './types.js';
export type {
  Machine,
  Snapshot,
  Effect,
  EffectSpec,
  StepSpec,
  StepRecord,
  EventOf,
  TimerEvent,
  AnyEvent,
  TransitionResult,
  TransitionStep,
  StateOf,
  EventOfMachine,
  ContextOf,
  SnapshotOf,
  NormalState,
  NormalTransition,
} from './types.js';
