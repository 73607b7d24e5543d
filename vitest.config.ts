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

// e2e files that share nothing with another file (see the e2e-two-at-a-time project): whole shops
// in one process (PGlite + in-process transport), CLI runs of their own, and the lighter process
// tests on the shared server and brokers in databases, namespaces and topics of their own.
const TWO_AT_A_TIME_E2E = [
  'src/shop/shop-embedded-*.e2e.test.ts',
  'src/shop/gateway/*.e2e.test.ts',
  'src/shop/orders/one-source-of-truth.e2e.test.ts',
  'src/dashboard/*.e2e.test.ts',
  'src/cli/diagram-command.e2e.test.ts',
  'src/cli/verify-command.e2e.test.ts',
  'src/cli/projections-command.e2e.test.ts',
  'src/shop/trace-multiprocess.e2e.test.ts',
  'src/transport/crash.e2e.test.ts',
  'src/cli/migrate-command.e2e.test.ts',
  'src/runtime/engines-sigkill.e2e.test.ts',
  'src/cli/retention-command.e2e.test.ts',
  'src/cli/start-security.e2e.test.ts',
];
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
          // Two files at a time: each makes its own databases, streams and topics, and most of a
          // file's time is spent waiting on PostgreSQL, a broker or a timer (one at a time, the
          // project took 429 s of wall time for 298 s inside the files on a quiet machine).
          maxWorkers: 2,
          // Each worker keeps the modules it loaded from one file to the next (no fresh module graph
          // per file): the project's import time fell from 54 s to 7 s and its wall time from 214 s to
          // 149 s, and 203 → 146 s (two pairs). Files share modules, not state: each makes its own
          // databases and engines and stops them, and the one that registers a global tracer disables it.
          isolate: false,
          include: ['src/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e-two-at-a-time',
          globalSetup,
          // Nothing shared with another file, so two at a time (each is about one core's work).
          // Said outright: vitest's default is one fewer than the cores, one at a time on two.
          sequence: { groupOrder: 2 },
          maxWorkers: 2,
          include: TWO_AT_A_TIME_E2E,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          globalSetup,
          // Last, one file at a time: whole shop layouts of several processes with 1,000–2,000 orders
          // and time limits of their own (two side by side made the machine too slow for them), and
          // the tests that stop and restart the shared brokers under everything else, and the
          // package test, whose `npm pack` rebuilds dist/ under every CLI run beside it (seen:
          // verify-command's `bin/ordo.js` found dist/src/machine/index.js gone).
          sequence: { groupOrder: 3 },
          include: ['src/**/*.e2e.test.ts'],
          exclude: [...TWO_AT_A_TIME_E2E, 'node_modules/**'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
