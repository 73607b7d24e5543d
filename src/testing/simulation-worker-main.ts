/**
 * Entry point of the simulation worker process (`node --import tsx simulation-worker-main.ts`),
 * configured by the ORDO_SIM_CONFIG environment variable (JSON SimulationWorkerConfig).
 */
import { runSimulationWorker, type SimulationWorkerConfig } from './simulation-worker.js';

const raw = process.env['ORDO_SIM_CONFIG'];
if (!raw) {
  process.stderr.write('ORDO_SIM_CONFIG is not set\n');
  process.exit(2);
}
const config = JSON.parse(raw) as SimulationWorkerConfig;
try {
  await runSimulationWorker(config, (line) => process.stdout.write(JSON.stringify(line) + '\n'));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
