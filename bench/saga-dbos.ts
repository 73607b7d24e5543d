import { DBOS } from '@dbos-inc/dbos-sdk';
import { summarise, type BenchRun } from './result.js';

/*
 * The peer: DBOS Transact running the order saga as one durable workflow whose steps are
 * the saga's steps (reserve, pay, ship, confirm delivery) with trivial bodies, on the
 * same PostgreSQL server. Each step is checkpointed in DBOS's system database before the
 * next one runs, which is DBOS's durability guarantee: the same one ordo gives per step.
 */

const STEPS = ['reserveInventory', 'processPayment', 'prepareShipment', 'confirmDelivery'] as const;

async function orderWorkflow(orderId: string): Promise<string> {
  for (const name of STEPS) await DBOS.runStep(() => Promise.resolve(`${name}:${orderId}`), { name });
  return 'DELIVERED';
}

let workflow: ((orderId: string) => Promise<string>) | undefined;

/** Launches DBOS on `systemDatabaseUrl` (its tables are created there). Call `stopDbos` after. */
export async function startDbos(systemDatabaseUrl: string): Promise<void> {
  workflow ??= DBOS.registerWorkflow(orderWorkflow, { name: 'orderWorkflow' });
  DBOS.setConfig({ name: 'ordo-bench', systemDatabaseUrl, logLevel: 'error', systemDatabasePoolSize: 64 });
  await DBOS.launch();
}

export async function stopDbos(): Promise<void> {
  await DBOS.shutdown();
}

/** Closed loop: `inFlight` callers each start a workflow as soon as their last one finished; `warmupSeconds` unmeasured, then `seconds` measured. */
export async function runDbos(inFlight: number, seconds: number, prefix: string, warmupSeconds = 0): Promise<BenchRun> {
  const run = workflow;
  if (!run) throw new Error('startDbos first');
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now() + warmupSeconds * 1000; // the measured window opens
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        const id = `${prefix}-${next++}`;
        const s = performance.now();
        const handle = await DBOS.startWorkflow(run, { workflowID: id })(id);
        const result = await handle.getResult();
        if (result !== 'DELIVERED') throw new Error(`DBOS workflow ${id} ended ${String(result)}`);
        if (s >= t0) latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return summarise(`DBOS Transact workflow (${STEPS.length} steps), ${inFlight} in flight`, latencies.length, elapsed, latencies, { inFlight, system: 'dbos' });
}
