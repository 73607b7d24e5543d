// `npm run build`: compiles src/ to dist/ (tsconfig.build.json) and copies the files the
// compiled code reads at run time (the dashboard's page). Starts from an empty dist/ so a
// deleted source file leaves no stale module behind.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
cpSync(`${root}src/dashboard/assets`, `${dist}/src/dashboard/assets`, {
  recursive: true,
  filter: (from: string) => !from.endsWith('tsconfig.json'),
});
