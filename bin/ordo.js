#!/usr/bin/env node
// The `ordo` command runs the compiled dist/ (the installed package has nothing else).
// In a checkout of the repository, `npm ci` builds dist/ (the `prepare` script); when a
// source file is newer than that build, or there is none, the TypeScript sources run
// through tsx (a dev dependency) instead, so an edit shows at once and a stale build
// never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = new URL('../dist/src/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);

/** Newest modification time of the sources the build compiles (src/, bench/). */
function newestSource() {
  let newest = 0;
  for (const dir of ['src', 'bench']) {
    const base = `${root}${dir}`;
    if (!existsSync(base)) continue;
    for (const file of readdirSync(base, { recursive: true })) {
      if (typeof file === 'string' && /\.(ts|js|html|css)$/.test(file)) newest = Math.max(newest, statSync(`${base}/${file}`).mtimeMs);
    }
  }
  return newest;
}

/** ORDO_FROM_SOURCE=1 or 0 decides; otherwise the sources when the build is missing or older. */
function fromSource() {
  if (!existsSync(source)) return false;
  const forced = globalThis.process.env['ORDO_FROM_SOURCE'];
  if (forced === '1' || forced === '0') return forced === '1';
  return !existsSync(built) || statSync(built).mtimeMs < newestSource();
}

async function tsxApi() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined; // no tsx (a production install of a checkout): the build it is
  }
}

const tsx = fromSource() ? await tsxApi() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import(built.href);
}
