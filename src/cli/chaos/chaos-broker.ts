import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChaosOptions } from './chaos-options.js';
import { KAFKA_TARGET, NATS_TARGET } from './fault-schedule.js';
import { freePort } from '../../transport/index.js';
import type { ManagedProcess } from './managed-process.js';
import { findKafkaJars, privateKafkaBroker } from './private-kafka.js';
import { findNatsServer, privateNatsServer } from './private-nats.js';

/** The broker of a chaos run: a private nats-server or a private Kafka broker, not started yet. */
export interface ChaosBroker {
  /** `nats-server` or `kafka`: the fault target and the name in the report. */
  readonly name: string;
  readonly process: ManagedProcess;
  /** How the shop processes reach it (`--nats URL …` or `--kafka HOST:PORT`). */
  readonly shopArgs: readonly string[];
  /** One line for the run's steps. */
  readonly description: string;
}

/** What the run's broker runs from: found before anything is created, so a missing one is only a usage error. */
export type BrokerBinary = { readonly kind: 'nats'; readonly binary: string } | { readonly kind: 'kafka'; readonly jars: string };

export async function findChaosBroker(options: Pick<ChaosOptions, 'broker' | 'natsServer' | 'kafkaJars'>): Promise<BrokerBinary> {
  return options.broker === 'kafka' ? { kind: 'kafka', jars: await findKafkaJars(options.kafkaJars) } : { kind: 'nats', binary: findNatsServer(options.natsServer) };
}

/** Sets up the run's own broker under `dir` (its store, its ports); the caller starts it. */
export async function prepareChaosBroker(
  found: BrokerBinary,
  options: Pick<ChaosOptions, 'ackWaitMs'>,
  dir: string,
  logDir: string,
  onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): Promise<ChaosBroker> {
  if (found.kind === 'kafka') {
    const jars = found.jars;
    const [port, controllerPort] = [await freePort(), await freePort()];
    const kafkaDir = join(dir, 'kafka');
    await mkdir(kafkaDir, { recursive: true });
    const process = await privateKafkaBroker({ jars, port, controllerPort, dir: kafkaDir, logFile: join(logDir, 'kafka.log'), onUnexpectedExit });
    return { name: KAFKA_TARGET, process, shopArgs: ['--kafka', `127.0.0.1:${port}`], description: `a private Kafka broker on 127.0.0.1:${port} (controller ${controllerPort}, jars ${jars})` };
  }
  const binary = found.binary;
  const port = await freePort();
  const natsDir = join(dir, 'nats');
  await mkdir(natsDir, { recursive: true });
  const process = await privateNatsServer({ binary, port, dir: natsDir, logFile: join(logDir, 'nats-server.log'), onUnexpectedExit });
  return { name: NATS_TARGET, process, shopArgs: ['--nats', `nats://127.0.0.1:${port}`, '--nats-ack-wait-ms', String(options.ackWaitMs)], description: `a private nats-server on 127.0.0.1:${port} (${binary})` };
}
