import type { Machine, MachineMigration } from '../machine/index.js';
import type { AnyParticipant } from './participant.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

/** Faults every system has: the network's and the services' own (crash before ack), and a deadline passing early. */
/** `enginecrash`: the saga engine commits a reply's transition and crashes before the ack, so the reply is delivered again. */
export const CORE_FAULTS = ['loss', 'dup', 'reorder', 'crash', 'enginecrash', 'timeout'] as const;

/** An input from outside the participants: who sends it, and the fault budget it spends if it is the world's choice (a customer cancelling). */
export interface EnvironmentInput {
  /** An event the orchestrating machine accepts. */
  readonly event: string;
  /** Who sends it (a fair actor unless it spends a fault budget). */
  readonly actor: string;
  readonly fault?: string;
}

/**
 * How the orchestrating machine reaches the participants. Orchestration: its `send`
 * effects are commands to the participant named by `to`, and every answer a
 * participant publishes that the machine accepts is a reply to it. `reactions` route
 * a participant's published event to another participant as a command, in the same
 * step (the carrier's PackageShipped moving stock from reserved to shipped).
 */
export interface SystemWiring {
  readonly mode: 'orchestration';
  readonly reactions?: readonly { readonly from: string; readonly event: string; readonly to: string }[];
}

/** What a property sees of one state of the system: per key the machine state and each participant's local state, and the shared states. */
export interface SystemStateView {
  readonly keys: number;
  state(key: number): string;
  final(key: number): boolean;
  local<L = unknown>(participant: string, key: number): L;
  shared<G = unknown>(participant: string): G;
  /** Nothing in flight to or from this key. */
  quiet(key: number): boolean;
  /** Machine version of the key's instance (in a migration check: the old one until it migrates). */
  version(key: number): number;
}

/** Options of one run: how many keys (orders), the resources each participant starts with, fault budgets. */
export interface SystemRunOptions {
  readonly keys: number;
  readonly faults?: Readonly<Record<string, number>>;
  /** Slots per message queue (default derived from the budgets). */
  readonly capacity?: number;
  readonly symmetry?: boolean;
}

/** A state predicate that must hold in every reachable state. */
export interface SystemInvariant {
  readonly name: string;
  readonly description: string;
  readonly holds: (v: SystemStateView) => boolean;
}

/**
 * "No fair behaviour stays pending forever": `pending` marks states with an unmet
 * obligation (stable until met), `premise` the states where it arises at all (never
 * reached: vacuous).
 */
export interface SystemLiveness {
  readonly name: string;
  readonly description: string;
  readonly pending: (v: SystemStateView) => boolean;
  readonly premise: (v: SystemStateView) => boolean;
}

/**
 * A whole saga system, defined once: the orchestrating machine, its participants as
 * pure deciders, the wiring, the initial resources, the properties and the world's
 * faults. The checker's transition relation, the Promela and TLA+ exports and the
 * replay harness are all generated from it.
 */
export interface SystemDefinition {
  readonly name: string;
  /** Who runs the machine (an actor name in traces, e.g. `orders`). */
  readonly orchestrator: string;
  readonly machine: AnyMachine;
  /** Context every key starts with (keys are told apart by position). */
  readonly context: unknown;
  readonly participants: readonly AnyParticipant[];
  readonly wiring: SystemWiring;
  /** Each participant's shared state at the start (e.g. the stock), by participant name. */
  readonly initialShared: Readonly<Record<string, unknown>>;
  readonly environment: readonly EnvironmentInput[];
  readonly invariants: readonly SystemInvariant[];
  readonly liveness: readonly SystemLiveness[];
  /** ValidStateTransitions: allowed state changes (default: the machine's own edges). */
  readonly allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  /** Human-readable names of the faults the definition adds (environment and participants' choices). */
  readonly faultDescriptions?: Readonly<Record<string, string>>;
}

/** Every fault a definition knows: the core ones, then its environment's and its participants' choices. */
export function faultsOf(def: SystemDefinition): string[] {
  const out: string[] = [...CORE_FAULTS];
  for (const e of def.environment) if (e.fault && !out.includes(e.fault)) out.push(e.fault);
  for (const p of def.participants) {
    for (const cs of Object.values(p.choices ?? {}) as readonly (readonly { fault?: string }[])[]) for (const c of cs) if (c.fault && !out.includes(c.fault)) out.push(c.fault);
  }
  return out;
}

/**
 * A system in several versions, as data: each version's definition (they differ in the
 * orchestrating machine and whatever its new steps need) and the live migrations between
 * them. `ordo verify <system> --migration v1→v2` checks a migration on it.
 */
export interface VersionedSystem {
  readonly name: string;
  readonly versions: Readonly<Record<number, SystemDefinition>>;
  readonly migrations: readonly MachineMigration<never, unknown>[];
}
