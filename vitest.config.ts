import { defineConfig } from 'vitest/config';

// Three kinds of test, chosen by file name: `*.test.ts` is pure and fast,
// `*.int.test.ts` talks to real PostgreSQL/PGlite/NATS/Kafka, `*.e2e.test.ts`
// drives processes or a browser. `npm test` runs all of them.
export default defineConfig({
  test: {
    projects: [
      {
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
        test: {
          name: 'int',
          sequence: { groupOrder: 1 },
          include: ['src/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
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
