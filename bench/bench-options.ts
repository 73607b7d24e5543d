import type { BenchResult } from './result.js';

/** What every suite gets from `ordo bench` (kept apart from suites.ts, which loads the suites: no import cycle). */
export interface BenchOptions {
  /** Scale factor: 1 = the default size; smaller for a quick look. */
  readonly scale: number;
  readonly postgresUrl: string;
}

export type BenchSuite = (options: BenchOptions) => Promise<BenchResult>;
