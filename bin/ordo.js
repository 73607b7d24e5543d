#!/usr/bin/env node
// The `ordo` command. The installed package runs the compiled dist/. A checkout of the
// repository (src/ present, tsx installed as a dev dependency) runs the TypeScript
// sources through tsx instead, so `npm ci && npm start` needs no build and never runs a
// stale one.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);

async function tsxApi() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined; // no tsx (production install of a checkout): use the build
  }
}

const tsx = existsSync(source) ? await tsxApi() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import('../dist/src/cli/main.js');
}
