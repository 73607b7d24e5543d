import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { copyTemplateCluster } from './pglite-template.js';

/*
 * A new PGlite database runs initdb in WASM first: seconds each, and a shop opens four.
 * So the first new cluster is copied before anyone uses it, and every later new database,
 * in memory or in an empty data directory, starts from the copy: the way PGlite itself
 * clones a database and fills a new data directory. The copy is kept for this process and,
 * for the next ones, beside the installed PGlite in node_modules/.cache/ordo, named for
 * its version.
 */

/** A copy of a PGlite data directory (a tar) that new databases can start from. */
export class PgliteSnapshot extends Blob {
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    super([bytes], { type: 'application/x-tar' });
    this.#bytes = bytes;
  }

  /** PGlite reads only this; Node's own Blob takes ~0.3 s for a 40 MB cluster. */
  override arrayBuffer(): Promise<ArrayBuffer> {
    const copy = new Uint8Array(this.#bytes.byteLength);
    copy.set(this.#bytes);
    return Promise.resolve(copy.buffer);
  }
}

/** Copies the data directory of a running database: a snapshot of what it holds now. */
export async function snapshotPglite(pglite: PGlite): Promise<PgliteSnapshot> {
  const tar = await pglite.dumpDataDir('none');
  return new PgliteSnapshot(new Uint8Array(await tar.arrayBuffer()));
}

/** node_modules/.cache/ordo/pglite-<version>-cluster.tar, or undefined where there is no node_modules. */
function defaultCacheFile(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { name?: string; version?: string };
    const nodeModules = entry.lastIndexOf(`${sep}node_modules${sep}`);
    if (pkg.name !== '@electric-sql/pglite' || !pkg.version || nodeModules < 0) return undefined;
    return join(entry.slice(0, nodeModules), 'node_modules', '.cache', 'ordo', `pglite-${pkg.version}-cluster.tar`);
  } catch {
    return undefined;
  }
}

async function readCached(file: string | undefined): Promise<PgliteSnapshot | undefined> {
  if (!file || !existsSync(file)) return undefined;
  return readFile(file).then((bytes) => new PgliteSnapshot(bytes), () => undefined);
}

/** Best effort: a cache that cannot be written only means the next process runs initdb. */
async function writeCached(file: string | undefined, copy: PgliteSnapshot): Promise<void> {
  if (!file) return;
  const partial = `${file}.${process.pid}.partial`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(partial, new Uint8Array(await copy.arrayBuffer()));
    await rename(partial, file); // whole or not at all, whichever process gets there first
  } catch {
    await rm(partial, { force: true });
  }
}

export interface StartPgliteOptions {
  /** Directory for the data (created if new); omit for an in-memory database. */
  readonly dataDir?: string;
  /** Start a new database as a copy of this one instead of an empty cluster. */
  readonly from?: PgliteSnapshot;
  /** Server settings for this run (`shared_buffers: '32MB'`), passed as `-c name=value`. */
  readonly settings?: Readonly<Record<string, string>>;
}

function startParams(settings: Readonly<Record<string, string>> | undefined): { startParams?: string[] } {
  if (!settings) return {};
  return { startParams: [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])] };
}

/** Starts databases, keeping the fresh cluster in memory and in `cacheFile` (if any). */
export function pgliteStarter(cacheFile: string | undefined): (options?: StartPgliteOptions) => Promise<PGlite> {
  let freshCluster: Promise<PgliteSnapshot | undefined> | undefined;

  /** Initialises a new cluster as PGlite does and keeps a copy of it. */
  const initialise = async (where: { dataDir?: string; startParams?: string[] }): Promise<PGlite> => {
    let copied!: (copy: PgliteSnapshot | undefined) => void;
    const copy = new Promise<PgliteSnapshot | undefined>((resolve) => (copied = resolve));
    freshCluster = copy;
    try {
      const pglite = await PGlite.create(where);
      // Not handed out yet, so nothing has touched it.
      const snapshot = await snapshotPglite(pglite).catch(() => undefined);
      copied(snapshot);
      if (snapshot) await writeCached(cacheFile, snapshot);
      return pglite;
    } finally {
      copied(undefined); // no-op once copied; after a failure the next new database tries again
      if (!(await copy) && freshCluster === copy) freshCluster = undefined;
    }
  };

  const start = async (options: StartPgliteOptions = {}): Promise<PGlite> => {
    const { dataDir, from } = options;
    const where = { ...(dataDir ? { dataDir } : {}), ...startParams(options.settings) };
    if (dataDir && existsSync(join(dataDir, 'PG_VERSION'))) {
      if (from) throw new Error(`${dataDir} already holds a database; a snapshot starts only a new one`);
      return PGlite.create(where);
    }
    if (from) return PGlite.create({ ...where, loadDataDir: from });
    if (dataDir && cacheFile && (await copyTemplateCluster(dataDir, cacheFile))) return PGlite.create(where);
    const known = (freshCluster ??= readCached(cacheFile));
    const copy = await known;
    // The first to find no copy initialises; the others wait for its copy.
    if (!copy) return freshCluster === known ? initialise(where) : start(options);
    try {
      return await PGlite.create({ ...where, loadDataDir: copy });
    } catch (err) {
      // A cached copy this PGlite cannot start from (damaged): forget it and initialise anew.
      if (freshCluster === known) {
        freshCluster = undefined;
        if (cacheFile) await rm(cacheFile, { force: true });
      }
      if (dataDir && existsSync(join(dataDir, 'PG_VERSION'))) throw err;
      return start(options);
    }
  };
  return start;
}

/** Opens the PGlite database in `dataDir`, or a new in-memory one. */
export const startPglite = pgliteStarter(defaultCacheFile());
