import { resolve } from 'node:path';
import { SHOP_SERVICES, type ShopOptions, type ShopService, type StorageChoice } from '../shop/index.js';
import type { TransportChoice } from '../shop/index.js';
import { RetentionFlagError, retentionFromFlags, type RetentionFlags } from './retention-flags.js';
import { SecurityFlagError, securityFromFlags, type SecurityFlags } from './start-security-options.js';

export interface StartFlags extends RetentionFlags, SecurityFlags {
  dataDir: string;
  postgres?: string;
  nats?: string;
  kafka?: string;
  service?: string;
  mode: string;
  port: string;
  host: string;
  deliveryDelayMs: string;
  declineRate?: string;
  errorRate?: string;
  neverAnswersRate?: string;
  shipmentFailureRate?: string;
  refundFailureRate?: string;
  latencyMs?: string;
  /** Named as commander names `--payment-timeout-ms` (start-options.test.ts parses the real command). */
  paymentTimeoutMs?: string;
  reservationTimeoutMs?: string;
  seed: boolean;
  namespace: string;
  reconcileIntervalMs?: string;
  natsAckWaitMs?: string;
  relayLeaseMs?: string;
  metricsPort?: string;
  metricsHost?: string;
  /** `--order-machine 1|2` (commander's name for it). */
  orderMachine?: string;
  migrateOrders?: boolean;
}

export class StartFlagError extends Error {}

function rate(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new StartFlagError(`--${name} must be a number between 0 and 1, got "${v}"`);
  return n;
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  // Number('') is 0: an empty value would pass as a number instead of failing.
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new StartFlagError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}

function duration(name: string, v: string | undefined): `${number}ms` | undefined {
  const n = int(name, v, 1, 86_400_000);
  return n === undefined ? undefined : `${n}ms`;
}

/** `--reconcile-interval-ms`: 0 turns the periodic rounds off (the admin route still runs one). */
function reconcileInterval(v: string | undefined): { reconcileIntervalMs?: number | false } {
  const ms = int('reconcile-interval-ms', v, 0, 86_400_000);
  return ms === undefined ? {} : { reconcileIntervalMs: ms === 0 ? false : ms };
}

/**
 * `--metrics-port`: a service process without the gateway has no HTTP server, so its
 * metrics need a listener of their own; 0 (the default) leaves it off.
 */
function metricsListener(flags: StartFlags, service: string): { metricsListener?: { port: number; host: string } } {
  const port = int('metrics-port', flags.metricsPort, 0, 65535);
  if (!port) return {};
  if (service === 'all' || service === 'gateway') throw new StartFlagError('--metrics-port is for a process without the gateway (--service orders|inventory|payment|shipping); the gateway serves /metrics and /health on --port');
  return { metricsListener: { port, host: flags.metricsHost ?? '127.0.0.1' } };
}

function security(flags: StartFlags): Pick<ShopOptions, 'security'> {
  try {
    const s = securityFromFlags(flags);
    return Object.keys(s).length > 0 ? { security: s } : {};
  } catch (e) {
    if (e instanceof SecurityFlagError) throw new StartFlagError(e.message);
    throw e;
  }
}

/** Turns `ordo start` flags into shop options, rejecting combinations that cannot work. */
export function shopOptionsFromFlags(flags: StartFlags): Omit<ShopOptions, 'log'> {
  if (flags.mode !== 'orchestration' && flags.mode !== 'choreography') throw new StartFlagError(`--mode must be orchestration or choreography, got "${flags.mode}"`);
  if (flags.nats && flags.kafka) throw new StartFlagError('choose one broker: --nats or --kafka');
  const service = flags.service ?? 'all';
  if (service !== 'all' && !(SHOP_SERVICES as readonly string[]).includes(service)) {
    throw new StartFlagError(`--service must be one of ${[...SHOP_SERVICES, 'all'].join(', ')}, got "${service}"`);
  }
  if (service !== 'all' && (!flags.postgres || (!flags.nats && !flags.kafka))) {
    throw new StartFlagError('--service runs one part of the shop per process: it needs a PostgreSQL server (--postgres URL) and a broker (--nats URL or --kafka HOST:PORT)');
  }
  if (flags.postgres && !/^postgres(ql)?:\/\//.test(flags.postgres)) throw new StartFlagError(`--postgres must be a postgres:// URL, got "${flags.postgres}"`);
  if (flags.kafka && !/^[^\s:,]+:\d+(,[^\s:,]+:\d+)*$/.test(flags.kafka)) throw new StartFlagError(`--kafka must be HOST:PORT[,HOST:PORT…], got "${flags.kafka}"`);
  const port = int('port', flags.port, 0, 65535) ?? 3000;
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(flags.namespace)) throw new StartFlagError(`--namespace must be 1-31 of a-z 0-9 _ starting with a letter, got "${flags.namespace}"`);
  const storage: StorageChoice = flags.postgres ? { kind: 'postgres', url: flags.postgres, databasePrefix: flags.namespace } : { kind: 'pglite', dataDir: resolve(flags.dataDir) };
  const ackWaitMs = int('nats-ack-wait-ms', flags.natsAckWaitMs, 100, 3_600_000);
  if (ackWaitMs !== undefined && !flags.nats) throw new StartFlagError('--nats-ack-wait-ms applies to the NATS transport: add --nats URL');
  const relayLeaseMs = int('relay-lease-ms', flags.relayLeaseMs, 100, 3_600_000);
  const transport: TransportChoice = flags.nats ? { kind: 'nats', servers: flags.nats, stream: flags.namespace.toUpperCase(), ...(ackWaitMs ? { ackWaitMs } : {}) } : flags.kafka ? { kind: 'kafka', brokers: flags.kafka.split(','), namespace: flags.namespace } : { kind: 'inprocess' };
  const simulation = Object.fromEntries(
    Object.entries({
      deliveryDelayMs: int('delivery-delay-ms', flags.deliveryDelayMs, -1, 86_400_000),
      declineRate: rate('decline-rate', flags.declineRate),
      errorRate: rate('error-rate', flags.errorRate),
      neverAnswersRate: rate('never-answers-rate', flags.neverAnswersRate),
      shipmentFailureRate: rate('shipment-failure-rate', flags.shipmentFailureRate),
      refundFailureRate: rate('refund-failure-rate', flags.refundFailureRate),
      latencyMs: int('latency-ms', flags.latencyMs, 0, 60_000),
    }).filter(([, v]) => v !== undefined),
  );
  const delays = Object.fromEntries(
    Object.entries({ paymentTimeout: duration('payment-timeout-ms', flags.paymentTimeoutMs), reservationTimeout: duration('reservation-timeout-ms', flags.reservationTimeoutMs) }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as Record<string, `${number}ms`>;
  const orderMachineVersion = flags.orderMachine === undefined ? undefined : Number(flags.orderMachine);
  if (orderMachineVersion !== undefined && orderMachineVersion !== 1 && orderMachineVersion !== 2) throw new StartFlagError(`--order-machine must be 1 or 2, got "${flags.orderMachine}"`);
  if (flags.migrateOrders === true && orderMachineVersion !== 2) throw new StartFlagError('--migrate-orders moves v1 orders to v2: add --order-machine 2');
  return {
    mode: flags.mode,
    storage,
    ...(orderMachineVersion === 2 ? { orderMachineVersion, ...(flags.migrateOrders === true ? { migrateOrders: true } : {}) } : {}),
    transport,
    services: service === 'all' ? [...SHOP_SERVICES] : [service as ShopService],
    port,
    host: flags.host,
    simulation,
    ...(Object.keys(delays).length ? { delays } : {}),
    seed: flags.seed,
    ...reconcileInterval(flags.reconcileIntervalMs),
    ...(relayLeaseMs ? { relayLeaseMs } : {}),
    ...metricsListener(flags, service),
    ...security(flags),
    ...(process.env['ORDO_ADMIN_TOKEN'] ? { adminToken: process.env['ORDO_ADMIN_TOKEN'] } : {}),
    retention: retention(flags),
    ...(process.env['ORDO_TOKEN_SECRET'] ? { tokenSecret: process.env['ORDO_TOKEN_SECRET'] } : {}),
  };
}

function retention(flags: StartFlags): ReturnType<typeof retentionFromFlags> {
  try {
    return retentionFromFlags(flags);
  } catch (e) {
    if (e instanceof RetentionFlagError) throw new StartFlagError(e.message);
    throw e;
  }
}
