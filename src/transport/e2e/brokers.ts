// Stops and starts the shared local brokers with the project's own commands (DEVELOPERS'
// setup in scripts/services.sh and scripts/kafka.sh). Always leaves them running.
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const kafkaScript = fileURLToPath(new URL('../../../scripts/kafka.sh', import.meta.url));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitPort(port: number, open: boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopNats(): Promise<void> {
  await exec('start-stop-daemon', ['--stop', '--retry', 'TERM/10/KILL/5', '--exec', '/usr/sbin/nats-server']);
  await waitPort(4222, false);
}

export async function startNats(): Promise<void> {
  await exec('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/nats-server', '--', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log']);
  await waitPort(4222, true);
}

export async function stopKafka(): Promise<void> {
  await exec('bash', [kafkaScript, 'stop']);
}

export async function startKafka(): Promise<void> {
  await exec('bash', [kafkaScript, 'start'], { timeout: 120_000 });
}
