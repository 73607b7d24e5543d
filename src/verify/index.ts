export { checkMachine, type MachineCheckOptions, type MachineCheckResult, type MachineFinding, type MachineTraceStep } from './machine-checker.js';
export { checkSystem, checkModel, VALID_STATE_TRANSITIONS, NO_STRANDED_MESSAGES, type CheckOptions, type Progress, type SystemCheckResult, type TraceStep, type Violation, type PropertyStatus } from './system-checker.js';
export { formatResult, formatTrace, formatViolation } from './trace-format.js';
export { toPromela } from './promela-export.js';
export { toTla } from './tla-export.js';
export { StateStore } from './state-store.js';
export { findLivenessFailure, sccs, type ExploredGraph, type LivenessFailure } from './explored-graph.js';
export { buildLocalTable, type LocalTable } from './local-table.js';
export { ParticipantTable } from './participant-table.js';
export { ModelOptionsError, ModelBoundError, TraceReplayError } from './errors.js';

export { runParticipant, opaque, type Participant, type AnyParticipant, type OpaqueParticipant, type ParticipantState, type WorldChoice, type SystemMessage } from './participant.js';
export { CORE_FAULTS, faultsOf, type SystemDefinition, type SystemWiring, type SystemInvariant, type SystemLiveness, type SystemStateView, type SystemRunOptions, type EnvironmentInput } from './system-definition.js';
export { SystemModel } from './system-model.js';
export { viewOf, describeAction, type SystemView, type KeyView } from './system-view.js';
export { canonicalJson } from './canonical-json.js';
export { samplePayload } from './sample-payload.js';
export { successors } from './system-step.js';
