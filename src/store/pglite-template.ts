import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/*
 * A new data directory starts as a file copy of a template cluster kept beside the cached
 * cluster tar (node_modules/.cache/ordo/pglite-<version>-cluster/). Loading the tar into
 * a new PGlite instead costs ~170 MB more memory in this process and a second or two; a
 * file copy costs neither. The template is made once per installation, in a child process,
 * so the memory that initdb (or unpacking the tar) takes never lands in this one.
 */

const MAKE_TEMPLATE = `
const [pglite, dir, tar] = process.argv.slice(1);
const { PGlite } = await import(pglite);
const { existsSync, readFileSync } = await import('node:fs');
const options = { dataDir: dir };
if (tar && existsSync(tar)) options.loadDataDir = new Blob([readFileSync(tar)]);
const db = await PGlite.create(options);
await db.close();
`;

async function makeTemplate(template: string, cacheFile: string): Promise<void> {
  const partial = `${template}.${process.pid}.partial`;
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  try {
    // On a new installation not even the cache folder is there yet.
    await mkdir(dirname(template), { recursive: true });
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', MAKE_TEMPLATE, pglite, partial, cacheFile], { timeout: 120_000 });
    if (!existsSync(join(template, 'PG_VERSION'))) {
      await rm(template, { recursive: true, force: true });
      await rename(partial, template);
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/**
 * Fills the new data directory `dataDir` with a copy of the template cluster, making the
 * template first if needed. False when that cannot be done (the caller starts the
 * database another way).
 *
 * PG_VERSION, which marks a data directory as holding a database (pglite-start.ts), is
 * copied last and put in place by a rename: a process killed during the copy leaves a
 * directory without it, which the next start fills again. (A plain recursive copy wrote
 * it first: a SIGKILL during the copy left a "database" PGlite could not start — seen in
 * saga-crash.e2e, a worker killed while it created its data directory.)
 */
export async function copyTemplateCluster(dataDir: string, cacheFile: string): Promise<boolean> {
  const template = cacheFile.replace(/\.tar$/, '');
  const marker = join(template, 'PG_VERSION');
  try {
    if (!existsSync(marker)) await makeTemplate(template, cacheFile);
    await cp(template, dataDir, { recursive: true, filter: (src) => src !== marker });
    await copyFile(marker, join(dataDir, 'PG_VERSION.partial'));
    await rename(join(dataDir, 'PG_VERSION.partial'), join(dataDir, 'PG_VERSION'));
    return true;
  } catch {
    await rm(join(dataDir, 'PG_VERSION'), { force: true }); // a half copy is not a database
    return false;
  }
}
