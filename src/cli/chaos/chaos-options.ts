import { durationMs, type Duration } from '../../machine/index.js';
import type { WiringMode } from '../../shop/index.js';
import { FAULT_KINDS, type FaultKind } from './fault-schedule.js';

/** The flags of `ordo chaos` as commander hands them over (strings, unvalidated). */
export interface ChaosFlags {
  postgres: string;
  mode: string;
  duration?: string;
  orders?: string;
  rate: string;
  seed?: string;
  faults: string;
  faultEvery: string;
  settleTimeout: string;
  ackWait: string;
  relayLease: string;
  paymentTimeout: string;
  natsServer?: string;
  kafka?: boolean;
  kafkaJars?: string;
  keep?: boolean;
  json?: boolean;
}

export interface ChaosOptions {
  readonly postgres: string;
  readonly mode: WiringMode;
  /** Place this many orders, or place orders until this much time has passed. */
  readonly load: { readonly kind: 'orders'; readonly orders: number } | { readonly kind: 'duration'; readonly durationMs: number };
  /** Orders per second. */
  readonly rate: number;
  readonly seed: number;
  readonly faults: readonly FaultKind[];
  readonly faultEveryMs: number;
  readonly settleTimeoutMs: number;
  readonly ackWaitMs: number;
  readonly relayLeaseMs: number;
  /** The order saga's payment timeout: shorter sends more orders down the timeout-and-refund path when a fault delays payment. */
  readonly paymentTimeoutMs: number;
  /** The broker the shop runs on: a private nats-server, or (`--kafka`) a private Kafka broker. */
  readonly broker: 'nats' | 'kafka';
  /** Path of nats-server; found on PATH (or /usr/sbin) when absent. */
  readonly natsServer?: string;
  /** Directory of the Kafka broker's jars; the project's `.cache/kafka/jars` (or `scripts/kafka.sh jars`) when absent. */
  readonly kafkaJars?: string;
  readonly keep: boolean;
  readonly json: boolean;
}

export const DEFAULT_DURATION = '60s';

export class ChaosFlagError extends Error {}

/** `90` (seconds), `500ms`, `30s`, `2m`, `1h`. */
function duration(name: string, value: string, minMs: number, maxMs: number): number {
  const v = value.trim();
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : durationMs(v as Duration);
  } catch {
    throw new ChaosFlagError(`--${name} must be a duration such as 90s, 2m or 500ms, got "${value}"`);
  }
  if (!(ms >= minMs && ms <= maxMs)) throw new ChaosFlagError(`--${name} must be between ${minMs / 1000}s and ${maxMs / 1000}s, got "${value}"`);
  return ms;
}

function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new ChaosFlagError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** The default of --faults: a shop process killed, the broker killed, a shop process paused. */
export const DEFAULT_FAULTS = 'kill,broker,pause';

/** `broker` names the run's broker (`nats`, or `kafka` with --kafka); naming the other one is a mistake worth a message. */
function faultKinds(value: string, broker: 'nats' | 'kafka'): FaultKind[] {
  const v = value.trim();
  if (v === 'none') return [];
  const parts = v.split(',').map((p) => (p.trim() === 'broker' ? broker : p.trim()));
  const bad = parts.filter((p) => !(FAULT_KINDS as readonly string[]).includes(p));
  if (bad.length > 0 || parts.length === 0) throw new ChaosFlagError(`--faults takes a comma-separated list of kill, broker, pause (or none; nats and kafka name the broker), got "${value}"`);
  const other = broker === 'nats' ? 'kafka' : 'nats';
  if (parts.includes(other)) throw new ChaosFlagError(`--faults ${other}: this run's broker is ${broker === 'nats' ? 'a nats-server' : 'Kafka (--kafka)'}; use broker (or ${broker})`);
  return [...new Set(parts as FaultKind[])];
}

/** Validates `ordo chaos` flags; every bad value is a ChaosFlagError with a message naming the flag. */
export function chaosOptionsFromFlags(flags: ChaosFlags, randomSeed: () => number): ChaosOptions {
  if (flags.mode !== 'orchestration' && flags.mode !== 'choreography') throw new ChaosFlagError(`--mode must be orchestration or choreography, got "${flags.mode}"`);
  if (!/^postgres(ql)?:\/\/\S+$/.test(flags.postgres)) throw new ChaosFlagError(`--postgres must be a postgres:// URL of a server the run may create databases on, got "${flags.postgres}"`);
  if (flags.orders !== undefined && flags.duration !== undefined) throw new ChaosFlagError('choose one: --orders N (place N orders) or --duration D (place orders for D)');
  const load: ChaosOptions['load'] =
    flags.orders !== undefined ? { kind: 'orders', orders: whole('orders', flags.orders, 1, 1_000_000) } : { kind: 'duration', durationMs: duration('duration', flags.duration ?? DEFAULT_DURATION, 1000, 24 * 3_600_000) };
  const rate = Number(flags.rate);
  if (flags.rate.trim() === '' || !Number.isFinite(rate) || rate <= 0 || rate > 1000) throw new ChaosFlagError(`--rate must be a number of orders per second above 0 and at most 1000, got "${flags.rate}"`);
  if (flags.natsServer !== undefined && flags.natsServer.trim() === '') throw new ChaosFlagError('--nats-server must be the path of a nats-server binary');
  const broker = flags.kafka === true ? 'kafka' : 'nats';
  if (broker === 'kafka' && flags.natsServer !== undefined) throw new ChaosFlagError('--nats-server applies to NATS runs; a --kafka run starts a Kafka broker (see --kafka-jars)');
  if (broker === 'nats' && flags.kafkaJars !== undefined) throw new ChaosFlagError('--kafka-jars applies to --kafka runs');
  if (flags.kafkaJars !== undefined && flags.kafkaJars.trim() === '') throw new ChaosFlagError('--kafka-jars must be the directory of the Kafka broker jars');
  return {
    postgres: flags.postgres,
    mode: flags.mode,
    load,
    rate,
    seed: flags.seed === undefined ? randomSeed() : whole('seed', flags.seed, 0, 0xffff_ffff),
    faults: faultKinds(flags.faults, broker),
    faultEveryMs: duration('fault-every', flags.faultEvery, 100, 3_600_000),
    settleTimeoutMs: duration('settle-timeout', flags.settleTimeout, 1000, 24 * 3_600_000),
    ackWaitMs: duration('ack-wait', flags.ackWait, 500, 3_600_000),
    relayLeaseMs: duration('relay-lease', flags.relayLease, 500, 3_600_000),
    paymentTimeoutMs: duration('payment-timeout', flags.paymentTimeout, 500, 3_600_000),
    broker,
    ...(flags.natsServer !== undefined ? { natsServer: flags.natsServer } : {}),
    ...(flags.kafkaJars !== undefined ? { kafkaJars: flags.kafkaJars } : {}),
    keep: flags.keep === true,
    json: flags.json === true,
  };
}

/** How many orders the run will place (for the progress bar and the stock). */
export function plannedOrders(options: Pick<ChaosOptions, 'load' | 'rate'>): number {
  return options.load.kind === 'orders' ? options.load.orders : Math.max(1, Math.round((options.rate * options.load.durationMs) / 1000));
}

/** How long placing the orders takes at the rate, when nothing goes wrong (the horizon of the fault plan). */
export function plannedLoadMs(options: Pick<ChaosOptions, 'load' | 'rate'>): number {
  return options.load.kind === 'duration' ? options.load.durationMs : Math.round((options.load.orders / options.rate) * 1000);
}
