import { readdirSync, readFileSync } from 'node:fs';
import type { BenchRun } from './result.js';

/*
 * What a run cost in CPU, beside what it did: this process (every thread: the engine or
 * DBOS and their clients run here) and the local PostgreSQL server's processes, read from
 * /proc (Linux; on another system, or a server elsewhere, the PostgreSQL figure is absent).
 * On a shared machine whose cores both run, CPU per saga says more than sagas per second.
 */

const TICK_MS = 10; // USER_HZ 100

export interface ProcStat {
  readonly comm: string;
  readonly ppid: number;
  /** utime + stime, and cutime + cstime (children reaped: a backend that exited). */
  readonly own: number;
  readonly children: number;
}

/** A process's name, parent and CPU from /proc/<pid>/stat (Linux); undefined when gone or not there. */
export function procStat(pid: string | number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const f = text.slice(close + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined; // gone meanwhile, or no /proc
  }
}

/** CPU ms of the PostgreSQL server's processes so far: the live ones, and those the postmaster reaped. */
export function postgresCpuMs(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const all = new Map<number, ProcStat>();
  for (const p of pids) {
    const s = procStat(p);
    if (s?.comm === 'postgres') all.set(Number(p), s);
  }
  if (all.size === 0) return undefined;
  let total = 0;
  for (const s of all.values()) total += s.own + (all.has(s.ppid) ? 0 : s.children); // the postmaster has no postgres parent
  return total;
}

/** Runs `body` and adds to its run the CPU ms per operation of this process and of PostgreSQL. */
export async function meteringCpu(body: () => Promise<BenchRun>): Promise<BenchRun> {
  const node0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const t0 = performance.now();
  const run = await body();
  const seconds = (performance.now() - t0) / 1000;
  const node = process.cpuUsage(node0);
  const pg1 = postgresCpuMs();
  const ops = run.opsPerSec * seconds;
  if (ops <= 0) return run;
  const perOp = (ms: number) => Math.round((ms / ops) * 100) / 100;
  return { ...run, nodeCpuMsPerOp: perOp((node.user + node.system) / 1000), ...(pg0 !== undefined && pg1 !== undefined ? { postgresCpuMsPerOp: perOp(pg1 - pg0) } : {}) };
}
