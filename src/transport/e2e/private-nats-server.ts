// A nats-server with JetStream that only one test uses (its own port and store directory),
// for tests that kill the broker: the shared one on 4222 is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';

const BINARY = process.env.ORDO_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface PrivateNatsServer {
  readonly url: string;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store; resolves once it is ready. */
  start(): Promise<void>;
  /** Kills it and removes its store. */
  dispose(): Promise<void>;
}

export async function privateNatsServer(): Promise<PrivateNatsServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'ordo-nats-test-'));
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    output = '';
    const c = spawn(BINARY, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server on ${port} not ready after 30 s:\n${output}`)), 30_000);
      const onData = (b: Buffer) => {
        output += b.toString();
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server on ${port} exited with ${code}:\n${output}`));
      });
    });
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
  }

  await start();
  return {
    url: `127.0.0.1:${port}`,
    kill,
    start,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
