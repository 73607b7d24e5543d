import type { BenchResult } from './result.js';

export interface BenchOptions {
  /** Scale factor: 1 = the default size; smaller for a quick look. */
  readonly scale: number;
  readonly postgresUrl: string;
}

export type BenchSuite = (options: BenchOptions) => Promise<BenchResult>;

/** Suites by name (`ordo bench <name>`). Each one lazy-loads its own file. */
export const suites: Readonly<Record<string, { describe: string; load: () => Promise<BenchSuite> }>> = {};
