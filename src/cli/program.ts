import { Command } from 'commander';
import { registerBench } from './bench-command.js';
import { registerDiagram } from './diagram-command.js';
import { registerVerify } from './verify-command.js';
import { registerExport } from './export-command.js';
import { registerStart } from './start-command.js';
import { registerDemo } from './demo-command.js';
import { registerProjections } from './projections-command.js';
import { registerChaos } from './chaos-command.js';
import { registerRetention } from './retention-command.js';
import { registerMigrate } from './migrate-command.js';

export function buildProgram(): Command {
  const program = new Command('ordo')
    .description('distributed state management with typed state machines')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerStart(program);
  registerDemo(program);
  registerDiagram(program);
  registerBench(program);
  registerVerify(program);
  registerExport(program);
  registerProjections(program);
  registerChaos(program);
  registerRetention(program);
  registerMigrate(program);
  return program;
}
