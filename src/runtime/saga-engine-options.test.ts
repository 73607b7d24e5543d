import { describe, expect, it } from 'vitest';
import type { Db } from '../store/index.js';
import { orderMachine } from '../shop/index.js';
import { createSagaEngine } from './saga-engine.js';

// Options are checked when the engine is created, before anything touches the database.
const db = { engine: 'postgres' } as unknown as Db;

describe('saga engine options', () => {
  it.each([
    ['batchSize', 0],
    ['concurrency', 1.5],
    ['parallelMin', 0],
    ['parallelMin', Number.NaN],
    ['instanceCacheSize', -1],
    ['instanceCacheSize', 2.5],
  ])('refuses %s = %s by name', (option, value) => {
    expect(() => createSagaEngine({ db, machines: [orderMachine], [option]: value })).toThrow(expect.objectContaining({ code: 'INVALID_ENGINE_OPTION', message: expect.stringContaining(option) as string }) as Error);
  });

  it('takes a parallelMin and the defaults', () => {
    expect(() => createSagaEngine({ db, machines: [orderMachine], parallelMin: 1 })).not.toThrow();
    expect(() => createSagaEngine({ db, machines: [orderMachine], instanceCacheSize: 0 })).not.toThrow();
    expect(createSagaEngine({ db, machines: [orderMachine] }).options).toMatchObject({ batchSize: 200, concurrency: 4 });
  });
});
