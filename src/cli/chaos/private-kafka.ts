import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { managedProcess, type ManagedProcess } from './managed-process.js';
import { packageRoot } from '../package-root.js';

const exec = promisify(execFile);
const PACKAGE_ROOT = packageRoot();
const KAFKA_SCRIPT = join(PACKAGE_ROOT, 'scripts', 'kafka.sh');

export class KafkaNotFoundError extends Error {
  readonly code = 'CHAOS_KAFKA_NOT_FOUND';
}

/** `$JAVA_HOME/bin/java` when set, else `java` from PATH. */
export function findJava(): string {
  const home = process.env['JAVA_HOME'];
  if (home) {
    const java = join(home, 'bin', 'java');
    try {
      accessSync(java, constants.X_OK);
      return java;
    } catch {
      // fall back to PATH
    }
  }
  return 'java';
}

/**
 * The directory of the Kafka broker's jars: the one given, else the project's cache
 * (`.cache/kafka/jars`, where scripts/kafka.sh keeps them), else resolved from Maven Central
 * by `scripts/kafka.sh jars` (once; it does not touch the shared broker).
 */
export async function findKafkaJars(explicit?: string): Promise<string> {
  const has = (dir: string) => existsSync(dir) && existsSync(join(dir, 'kafka-clients-' + kafkaVersion() + '.jar'));
  if (explicit !== undefined) {
    if (has(explicit)) return explicit;
    throw new KafkaNotFoundError(`--kafka-jars ${explicit} holds no Kafka ${kafkaVersion()} jars (kafka-clients-${kafkaVersion()}.jar); \`bash scripts/kafka.sh jars\` fetches them`);
  }
  const cached = join(PACKAGE_ROOT, '.cache', 'kafka', 'jars');
  if (has(cached)) return cached;
  try {
    const { stdout } = await exec('bash', [KAFKA_SCRIPT, 'jars'], { timeout: 600_000 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    if (has(dir)) return dir;
    throw new Error(`it printed "${dir}"`);
  } catch (err) {
    throw new KafkaNotFoundError(`could not get the Kafka jars with scripts/kafka.sh jars (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); pass --kafka-jars DIR`);
  }
}

function kafkaVersion(): string {
  return process.env['KAFKA_VERSION'] ?? '4.4.0';
}

/**
 * A single-node KRaft Kafka broker that only this run uses: its own client and controller
 * ports on 127.0.0.1 and its own data directory, so killing it touches no shared broker
 * (`scripts/kafka.sh stop` finds brokers by their `.cache/kafka/server.properties`, which this
 * one does not use). Restarting it on the same ports and directory brings its topics,
 * offsets and consumer groups back. The storage is formatted here on first use.
 */
export async function privateKafkaBroker(options: {
  jars: string;
  port: number;
  controllerPort: number;
  dir: string;
  logFile: string;
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}): Promise<ManagedProcess> {
  const java = findJava();
  const data = join(options.dir, 'data');
  const props = join(options.dir, 'server.properties');
  const log4j = join(options.dir, 'log4j2.properties');
  await mkdir(data, { recursive: true });
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${options.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${options.port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${data}`,
      'num.partitions=3',
      'default.replication.factor=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      '',
    ].join('\n'),
  );
  await writeFile(
    log4j,
    ['status = warn', 'appender.console.type = Console', 'appender.console.name = STDOUT', 'appender.console.layout.type = PatternLayout', 'appender.console.layout.pattern = [%d] %p %m (%c)%n', 'rootLogger.level = INFO', 'rootLogger.appenderRef.stdout.ref = STDOUT', 'logger.clients.name = org.apache.kafka.clients', 'logger.clients.level = WARN', 'logger.request.name = kafka.request.logger', 'logger.request.level = WARN', ''].join('\n'),
  );
  const classpath = `${options.jars}/*`;
  if (!existsSync(join(data, 'meta.properties'))) {
    // A KRaft cluster id is 16 random bytes, base64url without padding (what StorageTool random-uuid prints).
    // Kafka's own random ids never begin with '-' (Uuid.randomUuid draws again): the storage tool reads one that does as an option.
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    await exec(java, ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', '--config', props, '--cluster-id', clusterId, '--ignore-formatted'], { timeout: 120_000 });
  }
  return managedProcess({
    name: 'kafka',
    command: java,
    // C1 only and the serial collector: a chaos run restarts this broker often and asks little of it, so start-up CPU matters more than peak speed (≈20 % faster start on the loaded 2-core box).
    args: ['-Xmx512m', '-Xms128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${options.dir}`, '-cp', classpath, 'kafka.Kafka', props],
    logFile: options.logFile,
    ready: /Kafka Server started/,
    readyTimeoutMs: 120_000,
    ...(options.onUnexpectedExit ? { onUnexpectedExit: options.onUnexpectedExit } : {}),
  });
}
