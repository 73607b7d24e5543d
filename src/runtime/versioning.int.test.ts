import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../machine/index.js';
import { migrate, migrateStore, readStream, type Db } from '../store/index.js';
import { pgliteFactory, type FreshDatabase } from '../testing/index.js';
import { createSagaEngine, MachineVersionMissingError, runtimeMigrations, RUNTIME_MIGRATION_SCOPE, type SagaEngineOptions } from './index.js';

const flow = setup({ context: z.object({ n: z.number() }), events: { Go: z.object({}), Finish: z.object({}) } });
/** v1: A → B. */
const v1 = flow.createMachine({ id: 'flow', version: 1, initial: 'A', states: { A: { on: { Go: 'B' } }, B: { type: 'final' } } });
/** v2 adds a review state between them. */
const v2 = flow.createMachine({ id: 'flow', version: 2, initial: 'A', states: { A: { on: { Go: 'REVIEW' } }, REVIEW: { on: { Finish: 'B' } }, B: { type: 'final' } } });

describe('machine versions', () => {
  let d: FreshDatabase;
  let close = async () => {};
  beforeAll(async () => {
    const f = await pgliteFactory(async (db) => {
      await migrateStore(db);
      await migrate(db, runtimeMigrations, RUNTIME_MIGRATION_SCOPE);
    });
    d = await f.fresh();
    close = async () => {
      await d.close();
      await f.close();
    };
  });
  afterAll(() => close());
  const engineWith = (db: Db, machines: SagaEngineOptions['machines']) => createSagaEngine({ db, machines, pollIntervalMs: false, migrate: false });

  it('finishes v1 instances on v1 while new ones start on v2; without v1 the engine refuses to start', async () => {
    const old = engineWith(d.db, [v1]);
    await old.start();
    expect(await old.startSaga('a', 'flow', { n: 1 })).toMatchObject({ status: 'started', version: 1 });
    expect(await old.startSaga('b', 'flow', { n: 2 })).toMatchObject({ status: 'started', version: 1 });
    await old.stop();

    // Deploy v2 beside v1.
    const both = engineWith(d.db, [v2, v1]);
    await both.start();
    expect(await both.startSaga('c', 'flow', { n: 3 })).toMatchObject({ status: 'started', version: 2 });
    expect(await both.deliver([{ id: 'go-a', key: 'a', type: 'Go' }])).toMatchObject([{ status: 'applied', state: 'B' }]);
    expect(await both.deliver([{ id: 'go-c', key: 'c', type: 'Go' }])).toMatchObject([{ status: 'applied', state: 'REVIEW' }]);
    expect((await both.getSaga('a'))?.machineVersion).toBe(1);
    expect((await readStream(d.db, 'flow-a')).map((m) => m.metadata['machineVersion'])).toEqual([1, 1]);
    await both.stop();

    // v1 removed while b (v1) is unfinished: a loud refusal naming the version and the count.
    const onlyNew = engineWith(d.db, [v2]);
    const err: unknown = await onlyNew.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MachineVersionMissingError);
    expect(err).toMatchObject({ code: 'MACHINE_VERSION_MISSING', missing: [{ machine: 'flow', version: 1, instances: 1 }] });
    expect((err as Error).message).toMatch(/1 unfinished instance\(s\) of machine flow are pinned to version 1/);
    await expect(onlyNew.startSaga('d', 'flow', { n: 4 })).rejects.toMatchObject({ code: 'ENGINE_STOPPED' });

    // Once the v1 instances are finished, v1 can go.
    const finish = engineWith(d.db, [v2, v1]);
    await finish.start();
    await finish.deliver([{ id: 'go-b', key: 'b', type: 'Go' }]);
    await finish.stop();
    const clean = engineWith(d.db, [v2]);
    await clean.start();
    expect(await clean.deliver([{ id: 'fin-c', key: 'c', type: 'Finish' }])).toMatchObject([{ status: 'applied', state: 'B' }]);
    // A finished v1 instance stays readable; messages for it are dead-lettered, never silently dropped.
    expect(await clean.deliver([{ id: 'late-a', key: 'a', type: 'Go' }])).toMatchObject([{ status: 'dead-lettered', code: 'MACHINE_VERSION_MISSING' }]);
    await clean.stop();
  });
});
