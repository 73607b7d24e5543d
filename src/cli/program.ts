import { Command } from 'commander';
import { registerBench } from './bench-command.js';
import { registerDiagram } from './diagram-command.js';

export function buildProgram(): Command {
  const program = new Command('ordo')
    .description('distributed state management with typed state machines')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerDiagram(program);
  registerBench(program);
  return program;
}
