import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));
// The package's own name resolves to its sources (the exports map points at the build in dist/).
const resolve = {
  alias: [
    { find: /^ordo$/, replacement: src('index.ts') },
    { find: /^ordo\/(machine|testing|verify)$/, replacement: src('$1/index.ts') },
    { find: /^ordo\/(postgres|nats|kafka)$/, replacement: src('$1.ts') },
  ],
};
// Starts the local services that do not answer and names missing tools (scripts/test-setup.ts).
const globalSetup = ['./scripts/test-setup.ts'];

// Three kinds of test, chosen by file name: `*.test.ts` is pure and fast,
// `*.int.test.ts` talks to real PostgreSQL/PGlite/NATS/Kafka, `*.e2e.test.ts`
// drives processes or a browser. `npm test` runs all of them.
// ORDO_TEST_RESULTS=<file> also writes the results as JSON (.ci/run counts them from it).
const resultsFile = process.env['ORDO_TEST_RESULTS'];

export default defineConfig({
  test: {
    ...(resultsFile ? { reporters: ['default', 'json'], outputFile: { json: resultsFile } } : {}),
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          // Pure tests: one thread shares the loaded modules instead of loading them again per file.
          pool: 'threads',
          isolate: false,
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', 'node_modules/**'],
        },
      },
      {
        resolve,
        test: {
          name: 'int',
          globalSetup,
          sequence: { groupOrder: 1 },
          include: ['src/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          globalSetup,
          // After the others, one file at a time: some of these stop and restart the shared brokers.
          sequence: { groupOrder: 2 },
          include: ['src/**/*.e2e.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
