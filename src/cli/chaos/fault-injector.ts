import type { InjectedFault } from './chaos-report.js';
import type { PlannedFault } from './fault-schedule.js';
import type { ManagedProcess } from './managed-process.js';

export interface FaultRunOptions {
  /** The process a fault hits (a shop process, or the nats-server). */
  readonly targetOf: (fault: PlannedFault) => ManagedProcess | undefined;
  /** The plan's time zero (the start of the load). */
  readonly startedAt: number;
  /** No fault starts once this resolved (the load is over). */
  readonly until: Promise<unknown>;
  readonly signal: AbortSignal;
  /** A fault begins (`kill payment`) or ends (undefined). */
  readonly onCurrent?: (what: string | undefined) => void;
  /** A fault was undone (or could not be). */
  readonly onInjected: (fault: InjectedFault) => void;
}

const RESTART_ATTEMPTS = 3;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** Injects one fault and undoes it: SIGKILL then restart (until ready), or SIGSTOP then SIGCONT. */
async function inject(f: PlannedFault, proc: ManagedProcess, o: FaultRunOptions): Promise<InjectedFault> {
  const at = Date.now();
  const done = (extra: Partial<InjectedFault>): InjectedFault => ({ atMs: at - o.startedAt, kind: f.kind, target: f.target, downMs: f.downMs, ...extra });
  o.onCurrent?.(`${f.kind === 'pause' ? 'pause' : 'kill'} ${f.target}`);
  try {
    if (f.kind === 'pause') {
      proc.pause();
      await sleep(f.downMs, o.signal);
      proc.resume();
      return done({ recoveredMs: Date.now() - at });
    }
    await proc.kill();
    await sleep(f.downMs, o.signal);
    let error: string | undefined;
    for (let attempt = 1; attempt <= RESTART_ATTEMPTS && !o.signal.aborted; attempt++) {
      error = await proc.start().then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)),
      );
      if (error === undefined) break;
    }
    return done(error === undefined ? { recoveredMs: Date.now() - at } : { error });
  } finally {
    o.onCurrent?.(undefined);
  }
}

/**
 * Runs the plan one fault at a time until the load is over. A restart that takes
 * longer than planned shifts the rest of the plan, so the quiet gaps stay as planned.
 * A fault in progress when the load ends is still undone before this resolves.
 */
export async function runFaultPlan(plan: readonly PlannedFault[], o: FaultRunOptions): Promise<void> {
  let over = false;
  const until = o.until.then(
    () => void (over = true),
    () => void (over = true),
  );
  let lateMs = 0;
  for (const f of plan) {
    await Promise.race([sleep(o.startedAt + f.atMs + lateMs - Date.now(), o.signal), until]);
    if (over || o.signal.aborted) return;
    const proc = o.targetOf(f);
    if (!proc) continue;
    o.onInjected(await inject(f, proc, o));
    lateMs = Math.max(lateMs, Date.now() - o.startedAt - (f.atMs + f.downMs));
  }
}
