import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
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
 */
export async function copyTemplateCluster(dataDir: string, cacheFile: string): Promise<boolean> {
  const template = cacheFile.replace(/\.tar$/, '');
  try {
    if (!existsSync(join(template, 'PG_VERSION'))) await makeTemplate(template, cacheFile);
    await cp(template, dataDir, { recursive: true });
    return true;
  } catch {
    await rm(join(dataDir, 'PG_VERSION'), { force: true }); // a half copy is not a database
    return false;
  }
}
