import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from './setup.js';
import { start, transition } from './transition.js';

// Type-level tests: every `@ts-expect-error` below must be an error, or `tsc`
// reports the directive as unused. The last test compiles this file and fails on
// any diagnostic, so `npm test` enforces it as well as `npm run typecheck`.

const door = setup({
  context: z.object({ opens: z.number() }),
  events: { Open: z.object({ by: z.string() }), Close: z.object({}), Lock: z.object({ code: z.number() }) },
  messages: { Notify: z.object({ text: z.string() }) },
  guards: { isOwner: (_c, e) => e.type === 'Open' && e.by === 'owner' },
  assign: { count: (c) => ({ opens: c.opens + 1 }) },
  delays: { autoClose: '5s' },
});

const machine = door.createMachine({
  id: 'door',
  version: 1,
  initial: 'CLOSED',
  states: {
    CLOSED: { on: { Open: { target: 'OPEN', assign: 'count', guard: 'isOwner' }, Lock: 'LOCKED' } },
    OPEN: { on: { Close: 'CLOSED' }, after: { autoClose: 'CLOSED' }, entry: [door.send('owner', 'Notify', () => ({ text: 'opened' }))] },
    LOCKED: { type: 'final' },
  },
});

describe('the builder infers names and payloads from the definition', () => {
  it('rejects misspelled states, events, guards, delays and payloads at compile time', () => {
    const s = start(machine, { opens: 0 }).snapshot;
    const compileOnly = () => {
      // @ts-expect-error unknown event name in a transition call
      transition(machine, s, { type: 'Opne', by: 'x' });
      // @ts-expect-error wrong payload type
      transition(machine, s, { type: 'Open', by: 42 });
      // @ts-expect-error missing payload field
      transition(machine, s, { type: 'Lock' });
      // @ts-expect-error the snapshot's state is typed
      const bad: typeof s = { ...s, state: 'AJAR' };
      void bad;
      door.createMachine({
        id: 'x',
        version: 1,
        initial: 'A',
        // @ts-expect-error unknown target state
        states: { A: { on: { Open: 'B' } }, Z: { type: 'final' } },
      });
      door.createMachine({
        id: 'x',
        version: 1,
        // @ts-expect-error unknown initial state
        initial: 'NOPE',
        states: { A: { type: 'final' } },
      });
      door.createMachine({
        id: 'x',
        version: 1,
        initial: 'A',
        // @ts-expect-error unknown event name in `on`
        states: { A: { on: { Slam: 'Z' } }, Z: { type: 'final' } },
      });
      door.createMachine({
        id: 'x',
        version: 1,
        initial: 'A',
        // @ts-expect-error unknown guard name
        states: { A: { on: { Open: { target: 'Z', guard: 'isBurglar' } } }, Z: { type: 'final' } },
      });
      door.createMachine({
        id: 'x',
        version: 1,
        initial: 'A',
        // @ts-expect-error unknown delay name
        states: { A: { after: { never: 'Z' } }, Z: { type: 'final' } },
      });
      // @ts-expect-error unknown message
      door.send('owner', 'Shout');
      // @ts-expect-error wrong message payload
      door.send('owner', 'Notify', () => ({ text: 1 }));
      door.createMachine({
        id: 'x',
        version: 1,
        initial: 'A',
        steps: { reserve: { action: door.send('inv', 'Notify', () => ({ text: 'r' })) } },
        // @ts-expect-error unknown step
        states: { A: { invoke: 'reserv', on: { Close: 'Z' } }, Z: { type: 'final' } },
      });
    };
    expect(typeof compileOnly).toBe('function');
  });

  it('narrows the snapshot and context types', () => {
    const r = transition(machine, start(machine, { opens: 0 }).snapshot, { type: 'Open', by: 'owner' });
    const state: 'CLOSED' | 'OPEN' | 'LOCKED' = r.snapshot.state;
    const opens: number = r.snapshot.context.opens;
    expect([state, opens]).toEqual(['OPEN', 1]);
  });

  it('this file compiles with no diagnostics other than the expected ones', () => {
    const here = fileURLToPath(import.meta.url);
    const configPath = join(dirname(here), '../../tsconfig.json');
    const config = (ts.readConfigFile(configPath, (p) => ts.sys.readFile(p)) as { config: unknown }).config;
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
    const program = ts.createProgram([here], parsed.options);
    const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === here);
    expect(diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  }, 60_000);
});
