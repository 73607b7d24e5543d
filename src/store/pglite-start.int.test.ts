import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteStarter, snapshotPglite, startPglite } from './pglite-start.js';
import { copyTemplateCluster } from './pglite-template.js';

const dir = mkdtempSync(join(tmpdir(), 'ordo-pglite-start-'));
const opened: PGlite[] = [];
afterAll(async () => {
  for (const p of opened) if (!p.closed) await p.close();
  rmSync(dir, { recursive: true, force: true });
});
const keep = (p: PGlite) => (opened.push(p), p);
const tables = async (p: PGlite) => (await p.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);
const bytesOf = async (p: PGlite) => new Uint8Array(await (await snapshotPglite(p)).arrayBuffer());

describe('starting PGlite databases from a copy of a fresh cluster', () => {
  const cache = join(dir, 'cache', 'cluster.tar');
  const start = pgliteStarter(cache);

  it('replaces a damaged cached cluster, and gives each new database, in memory or in a new data directory, an empty cluster of its own', async () => {
    // A cluster cut short (a damaged disk): PGlite cannot start from it.
    const damaged = (await bytesOf(keep(await startPglite()))).subarray(0, 1_000_000);
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, damaged);

    const first = keep(await start());
    expect(await tables(first)).toEqual([]);
    expect(statSync(cache).size).toBeGreaterThan(damaged.length); // rewritten from a fresh initdb
    await first.exec('CREATE TABLE marker (n int); INSERT INTO marker VALUES (1)');

    const [second, third] = await Promise.all([start(), start()]).then((ps) => ps.map(keep));
    for (const p of [second, third]) expect(await tables(p!)).toEqual([]);
    await second!.exec('CREATE TABLE only_second (n int)');
    expect(await tables(third!)).toEqual([]);
    expect(await tables(first)).toEqual(['marker']);

    // A new data directory keeps what is written to it across a reopen.
    const data = join(dir, 'data');
    const onDisk = await start({ dataDir: data });
    expect(await tables(onDisk)).toEqual([]);
    await onDisk.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    await onDisk.close();
    const reopened = keep(await start({ dataDir: data }));
    expect((await reopened.query<{ n: number }>('SELECT n FROM kept')).rows).toEqual([{ n: 7 }]);
  }, 120_000);

  it('starts a copy of a database from its snapshot, independent of the original', async () => {
    const original = keep(await start());
    await original.exec('CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)');
    const from = await snapshotPglite(original);
    const [a, b] = await Promise.all([start({ from }), start({ from })]).then((ps) => ps.map(keep));
    await a!.exec('INSERT INTO t VALUES (3)');
    expect((await a!.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n).toBe(3);
    expect((await b!.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n).toBe(2);
    expect((await original.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n).toBe(2);
    await expect(start({ dataDir: join(dir, 'data'), from })).rejects.toThrow(/already holds a database/);
  }, 120_000);

  it('uses the cached cluster in the next process', async () => {
    expect(existsSync(cache)).toBe(true);
    // Another process's cache that is recognisably its own: a cluster holding a table.
    const marked = keep(await start());
    await marked.exec('CREATE TABLE from_the_cache (n int)');
    writeFileSync(cache, await bytesOf(marked));
    expect(await tables(keep(await pgliteStarter(cache)()))).toEqual(['from_the_cache']);
  }, 120_000);
});

describe('the template cluster a new data directory is copied from', () => {
  const cache = join(dir, 'new-installation', 'node_modules', '.cache', 'ordo', 'cluster.tar');
  it('is made on a new installation, where not even the cache folder exists yet, and the copy starts', async () => {
    const dataDir = join(dir, 'from-template');
    expect(await copyTemplateCluster(dataDir, cache)).toBe(true);
    expect(existsSync(join(dirname(cache), 'cluster', 'PG_VERSION'))).toBe(true);
    const db = keep(await startPglite({ dataDir }));
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  }, 120_000);

  /** Copies the template into `dataDir` in a child process, killed `killAfterMs` after the copy began (unless undefined). */
  async function copyInChild(dataDir: string, killAfterMs?: number): Promise<{ finished: boolean; ms: number }> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', COPY_IN_CHILD, new URL('./pglite-template.ts', import.meta.url).href, dataDir, cache], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    // Its first output is 'copying', written just before the copy starts.
    if (killAfterMs !== undefined) child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    await new Promise((resolve) => child.on('exit', resolve));
    const done = /done (\d+)/.exec(out);
    return { finished: done !== null, ms: Number(done?.[1] ?? 0) };
  }

  it('is copied with its PG_VERSION last: a process killed during the copy leaves no database, and the next start makes a whole one', async () => {
    await copyInChild(join(dir, 'copied-first')); // makes the template if the case above did not
    const whole = await copyInChild(join(dir, 'copied-whole')); // how long a copy alone takes
    expect(whole.finished).toBe(true);
    let cutShort = 0;
    for (const [i, share] of [0.15, 0.35, 0.55, 0.75].entries()) {
      const dataDir = join(dir, `killed-${i}`);
      if ((await copyInChild(dataDir, Math.round(whole.ms * share))).finished) continue;
      cutShort += 1;
      expect(existsSync(join(dataDir, 'PG_VERSION')), `a copy killed at ${share} of its time`).toBe(false);
      const db = keep(await startPglite({ dataDir }));
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await db.close();
    }
    expect(cutShort).toBeGreaterThanOrEqual(2);
  }, 120_000);
});

const COPY_IN_CHILD = `
const [module, dataDir, cache] = process.argv.slice(1);
const { copyTemplateCluster } = await import(module);
process.stdout.write('copying\\n');
const t = Date.now();
if (await copyTemplateCluster(dataDir, cache)) process.stdout.write('done ' + (Date.now() - t) + '\\n');
`;
