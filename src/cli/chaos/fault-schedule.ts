import { seededRandom } from '../../testing/index.js';

/**
 * `kill`: SIGKILL a shop process, restart it. `nats` / `kafka`: SIGKILL the run's broker (the
 * nats-server, or the Kafka broker of a `--kafka` run), restart it. `pause`: SIGSTOP a shop
 * process, SIGCONT it.
 */
export const FAULT_KINDS = ['kill', 'nats', 'kafka', 'pause'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const NATS_TARGET = 'nats-server';
export const KAFKA_TARGET = 'kafka';
export const isBrokerFault = (kind: FaultKind): kind is 'nats' | 'kafka' => kind === 'nats' || kind === 'kafka';

/** How long the target stays down (killed, or stopped) before it is restarted or continued, in ms. */
export const DOWN_MS: Readonly<Record<FaultKind, readonly [min: number, max: number]>> = {
  kill: [500, 2000],
  nats: [500, 2000],
  kafka: [500, 2000],
  pause: [500, 3000],
};

export interface PlannedFault {
  /** When to inject it, from the start of the load. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** A shop process (`orders`, `gateway`, …), `nats-server` or `kafka`. */
  readonly target: string;
  readonly downMs: number;
}

export interface FaultPlanOptions {
  readonly seed: number;
  /** No fault starts at or after this (the end of the load). */
  readonly horizonMs: number;
  /** Mean quiet time between one fault's end and the next one's start. */
  readonly meanGapMs: number;
  readonly kinds: readonly FaultKind[];
  /** The processes `kill` and `pause` choose from. */
  readonly services: readonly string[];
}

/**
 * The faults of a run, fixed by the seed: same seed and options, same plan. Faults
 * do not overlap (each one's down time ends before the next gap starts), so at most
 * one thing is broken at a time and every failure can be traced to one cause.
 */
export function planFaults(options: FaultPlanOptions): PlannedFault[] {
  const { kinds, services } = options;
  if (kinds.length === 0 || options.horizonMs <= 0) return [];
  if (services.length === 0 && kinds.some((k) => !isBrokerFault(k))) throw new RangeError('planFaults: kill and pause need at least one service');
  const random = seededRandom(options.seed);
  const pick = <T>(from: readonly T[]): T => from[Math.floor(random() * from.length)] as T;
  const gap = () => Math.round(options.meanGapMs * (0.5 + random()));
  const plan: PlannedFault[] = [];
  for (let at = gap(); at < options.horizonMs; ) {
    const kind = pick(kinds);
    const target = kind === 'nats' ? NATS_TARGET : kind === 'kafka' ? KAFKA_TARGET : pick(services);
    const [min, max] = DOWN_MS[kind];
    const downMs = Math.round(min + (max - min) * random());
    plan.push({ atMs: at, kind, target, downMs });
    at += downMs + gap();
  }
  return plan;
}
