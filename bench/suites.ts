import type { BenchSuite } from './bench-options.js';

/** Suites by name (`ordo bench <name>`). Each one lazy-loads its own file. */
export const suites: Readonly<Record<string, { describe: string; load: () => Promise<BenchSuite> }>> = {
  verify: { describe: "ordo's model checker vs SPIN on ordo's Promela export (states, states/s, symmetry)", load: async () => (await import('./verify.js')).default },
  events: { describe: 'message log appends/s (single and batched) vs raw INSERTs', load: async () => (await import('./events.js')).default },
  saga: { describe: 'order sagas/s and step latency on the PostgreSQL server vs raw UPDATE+INSERT transactions', load: async () => (await import('./saga.js')).default },
  scale: { describe: 'the engine driven to a million completed sagas with retention beside it: throughput, table sizes and RSS per 100k', load: async () => (await import('./scale.js')).default },
  shop: { describe: 'the whole shop end to end (PostgreSQL + NATS, and embedded): completion latency per arrival rate, sustained rate, vs raw durable hops', load: async () => (await import('./shop.js')).default },
  monitor: { describe: 'one round of the runtime property monitor over 1,000 finished orders on the PostgreSQL server', load: async () => (await import('./monitor.js')).default },
  migration: { describe: 'live migration of in-flight order sagas v1→v2 (instances/s) vs raw batched UPDATEs of the same rows', load: async () => (await import('./migration.js')).default },
  transport: { describe: 'NATS and Kafka messages/s published and consumed with ack, ordo transport vs raw client', load: async () => (await import('./transport.js')).default },
};
