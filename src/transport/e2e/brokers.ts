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

const NATS = '/usr/sbin/nats-server';
/** Our own pid file, so another nats-server on this machine (a test's private one) neither stops with ours nor keeps ours from starting. */
const NATS_PIDFILE = '/run/ordo-nats-4222.pid';

/** The pid of the process listening on 127.0.0.1:`port`, if any. */
async function listenerPid(port: number): Promise<number | undefined> {
  const { stdout } = await exec('ss', ['-ltnpH', `sport = :${port}`]);
  const m = /pid=(\d+)/.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** Stops the nats-server serving 127.0.0.1:4222 with start-stop-daemon, and no other nats-server. */
export async function stopNats(): Promise<void> {
  const pid = await listenerPid(4222);
  if (pid !== undefined) await exec('start-stop-daemon', ['--stop', '--retry', 'TERM/10/KILL/5', '--pid', String(pid), '--exec', NATS]);
  await waitPort(4222, false);
}

/** Starts it again with the command of scripts/services.sh (a no-op when 4222 answers). */
export async function startNats(): Promise<void> {
  if (await portOpen(4222)) return; // a second server on the same store directory must never run
  await exec('start-stop-daemon', ['--start', '--oknodo', '--background', '--make-pidfile', '--pidfile', NATS_PIDFILE, '--exec', NATS, '--', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log']);
  await waitPort(4222, true);
}

export async function stopKafka(): Promise<void> {
  await exec('bash', [kafkaScript, 'stop']);
}

export async function startKafka(): Promise<void> {
  await exec('bash', [kafkaScript, 'start'], { timeout: 120_000 });
}
