import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export interface ManagedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Every start appends the process's stdout and stderr here. */
  readonly logFile: string;
  /** Output that says the process is ready (matched against stdout and stderr). */
  readonly ready: RegExp;
  readonly readyTimeoutMs?: number;
  /** The process ended without being told to (not by kill() or stop()). */
  readonly onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** A child the chaos run starts, kills, pauses and restarts; its output goes to a log file. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts it and resolves once it printed its ready line. */
  start(): Promise<void>;
  /** SIGKILL, resolves once it is gone. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** SIGCONT + SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log. */
  tail(lines?: number): string;
}

const live = new Set<ChildProcess>();

/** Last resort on exit (a second Ctrl-C, an uncaught error): SIGKILL every child still running. */
export function killAllChildrenNow(): void {
  for (const c of live) {
    try {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export class ProcessStartError extends Error {
  readonly code = 'CHAOS_PROCESS_START';
}

export function managedProcess(options: ManagedProcessOptions): ManagedProcess {
  let child: ChildProcess | undefined;
  let log: WriteStream | undefined;
  let expectingExit = false;
  let exited: Promise<void> = Promise.resolve();

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const signal = (sig: NodeJS.Signals) => {
    if (alive() && child?.pid !== undefined) child.kill(sig);
  };

  async function start(): Promise<void> {
    if (alive()) throw new ProcessStartError(`${options.name} is already running`);
    log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`--- ${new Date().toISOString()} starting ${options.name}\n`);
    expectingExit = false;
    let ready = false;
    // Its own process group: a Ctrl-C in the terminal reaches the chaos run only, which then stops its children itself.
    const c = spawn(options.command, [...options.args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = c;
    live.add(c);
    const out = log;
    exited = new Promise((resolve) =>
      c.once('close', (code, sig) => {
        live.delete(c);
        out.end(`--- ${new Date().toISOString()} ${options.name} exited (${sig ?? `code ${code}`})\n`);
        if (ready && !expectingExit) options.onUnexpectedExit?.(code, sig);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => fail(`did not get ready within ${(options.readyTimeoutMs ?? 60_000) / 1000}s`), options.readyTimeoutMs ?? 60_000);
      const onData = (d: Buffer) => {
        out.write(d);
        if (ready) return;
        seen = (seen + d.toString()).slice(-4096);
        if (options.ready.test(seen)) done();
      };
      const onClose = (code: number | null, sig: NodeJS.Signals | null) => fail(`exited while starting (${sig ?? `code ${code}`})`);
      const onError = (err: Error) => fail(err.message);
      function cleanup() {
        clearTimeout(timer);
        c.off('close', onClose);
        c.off('error', onError);
      }
      function done() {
        cleanup();
        ready = true;
        resolve();
      }
      function fail(why: string) {
        cleanup();
        expectingExit = true;
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        reject(new ProcessStartError(`${options.name} ${why}\n${tailOf(options.logFile, 20)}`));
      }
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      c.once('close', onClose);
      c.once('error', onError);
    });
  }

  async function kill(): Promise<void> {
    if (!alive()) return;
    expectingExit = true;
    signal('SIGKILL');
    await exited;
  }

  async function stop(graceMs = 5000): Promise<void> {
    if (!alive()) return;
    expectingExit = true;
    signal('SIGCONT');
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  return {
    name: options.name,
    get pid() {
      return alive() ? child?.pid : undefined;
    },
    get running() {
      return alive();
    },
    start,
    kill,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop,
    tail: (lines = 20) => tailOf(options.logFile, lines),
  };
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
