import { accessSync, constants, statSync } from 'node:fs';
import { chmod, copyFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { managedProcess, type ManagedProcess } from './managed-process.js';

export class NatsServerNotFoundError extends Error {
  readonly code = 'CHAOS_NATS_SERVER_NOT_FOUND';
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The nats-server binary: the one given, else the first on PATH, else /usr/sbin or /usr/local/bin. */
export function findNatsServer(explicit?: string): string {
  if (explicit !== undefined) {
    if (executable(explicit)) return explicit;
    throw new NatsServerNotFoundError(`--nats-server ${explicit} is not an executable file`);
  }
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) if (executable(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  throw new NatsServerNotFoundError('nats-server was not found on PATH nor in /usr/sbin or /usr/local/bin; install it or pass --nats-server PATH');
}

/**
 * A nats-server with JetStream that only this run uses: its own port on 127.0.0.1 and
 * its own store directory, so killing it touches no shared broker, and a restart on
 * the same port and directory brings the stream and consumers back. It runs from a
 * copy of the binary in the run's folder: tools that stop "every nats-server" by
 * executable or name (`start-stop-daemon --stop --exec /usr/sbin/nats-server`, as the
 * transport's broker-restart test does) then leave it alone.
 */
export async function privateNatsServer(options: {
  binary: string;
  port: number;
  dir: string;
  logFile: string;
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}): Promise<ManagedProcess> {
  const copy = join(options.dir, 'ordo-chaos-nats');
  await copyFile(options.binary, copy, constants.COPYFILE_FICLONE);
  await chmod(copy, 0o755);
  return managedProcess({
    name: 'nats-server',
    command: copy,
    args: ['-a', '127.0.0.1', '-p', String(options.port), '-js', '-sd', join(options.dir, 'store'), '-n', `ordo-chaos-${options.port}`],
    logFile: options.logFile,
    ready: /Server is ready/,
    readyTimeoutMs: 30_000,
    ...(options.onUnexpectedExit ? { onUnexpectedExit: options.onUnexpectedExit } : {}),
  });
}
