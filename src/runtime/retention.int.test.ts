import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../machine/index.js';
import { appendToStream, lastGlobalPosition, readStream, recordInbox, saveCheckpoint, vacuumState, type Db } from '../store/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/index.js';
import { createSagaEngine, runOutboxRetention, runSagaRetention, startRetention, type SagaEngine } from './index.js';
import { SAGA_CHURN_TABLES } from './retention.js';

const flow = setup({ context: z.object({ n: z.number() }), events: { Go: z.object({}) } }).createMachine({
  id: 'flow',
  version: 1,
  initial: 'A',
  states: { A: { on: { Go: 'B' } }, B: { type: 'final' } },
});

const count = async (db: Db, sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);

for (const [name, open] of [
  ['PostgreSQL server', () => freshPostgres('retention_rt', 6)],
  ['PGlite', () => freshPglite()],
] as const) {
  describe(`saga retention: ${name}`, () => {
    let d: FreshDatabase;
    let engine: SagaEngine;
    beforeAll(async () => {
      d = await open();
      engine = createSagaEngine({ db: d.db, machines: [flow], pollIntervalMs: false });
      await engine.start();
    });
    afterAll(async () => {
      await engine.stop();
      await d.close();
    });

    it('retires finished sagas with their stream and history once the readers passed them; running ones stay and keep working', async () => {
      const relay = 'orders-outbox';
      await saveCheckpoint(d.db, relay, await lastGlobalPosition(d.db));
      for (const id of ['done-1', 'done-2', 'running']) await engine.startSaga(id, 'flow', { n: 1 });
      await engine.deliver([
        { id: 'go-1', key: 'done-1', type: 'Go' },
        { id: 'go-2', key: 'done-2', type: 'Go' },
      ]);
      await d.db.query(`INSERT INTO ordo_command_attempts (saga_id, step, compensation, seq, attempt, retryable, error) VALUES ('done-1', 's', false, 1, 1, true, 'x')`);
      const policy = { finishedAfterMs: 0, inboxAfterMs: 86_400_000, mode: 'archive' as const };

      // The relay has not passed their streams yet: nothing may leave.
      expect(await runSagaRetention(d.db, policy)).toMatchObject({ sagas: 0, held: 2 });
      expect(await readStream(d.db, 'flow-done-1')).not.toEqual([]);

      await saveCheckpoint(d.db, relay, await lastGlobalPosition(d.db));
      expect(await runSagaRetention(d.db, policy)).toMatchObject({ sagas: 2, held: 0 });
      expect(await engine.getSaga('done-1')).toBeUndefined();
      expect(await readStream(d.db, 'flow-done-2')).toEqual([]);
      expect(await count(d.db, `SELECT count(*)::text AS n FROM ordo_saga_instances_archive WHERE id IN ('done-1', 'done-2') AND status = 'final'`)).toBe(2);
      expect(await count(d.db, `SELECT count(*)::text AS n FROM ordo_messages_archive WHERE stream IN ('flow-done-1', 'flow-done-2')`)).toBeGreaterThanOrEqual(4);
      expect(await count(d.db, `SELECT count(*)::text AS n FROM ordo_command_attempts WHERE saga_id = 'done-1'`)).toBe(0);

      // The running saga is untouched and finishes normally afterwards.
      expect((await engine.getSaga('running'))?.status).toBe('active');
      expect(await engine.deliver([{ id: 'go-r', key: 'running', type: 'Go' }])).toMatchObject([{ status: 'applied', state: 'B' }]);
      expect((await readStream(d.db, 'flow-running')).length).toBeGreaterThanOrEqual(2);
    });

    it('keeps finished sagas younger than the policy, deletes in delete mode, and forgets old inbox entries', async () => {
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      await engine.startSaga('young', 'flow', { n: 1 });
      await engine.deliver([{ id: 'go-young', key: 'young', type: 'Go' }]);
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      expect(await runSagaRetention(d.db, { finishedAfterMs: 3_600_000, inboxAfterMs: 3_600_000, mode: 'delete' })).toMatchObject({ sagas: 0, inbox: 0 });
      expect((await engine.getSaga('young'))?.status).toBe('final');

      await recordInbox(d.db, 'someone', 'old-message');
      await d.db.query(`UPDATE ordo_inbox SET handled_at = now() - interval '2 hours' WHERE message_id = 'old-message'`);
      await d.db.query(`UPDATE ordo_saga_instances SET updated_at = now() - interval '2 hours' WHERE id = 'young'`);
      const loop = startRetention({ round: () => runSagaRetention(d.db, { finishedAfterMs: 3_600_000, inboxAfterMs: 3_600_000, mode: 'delete' }), intervalMs: 60_000 });
      const report = await loop.runNow();
      await loop.stop();
      expect(report).toMatchObject({ sagas: 1, inbox: 1 });
      expect(await count(d.db, `SELECT count(*)::text AS n FROM ordo_saga_instances_archive WHERE id = 'young'`)).toBe(0);
      expect(await engine.getSaga('young')).toBeUndefined();
    });

    it('a saga leaves with all of its streams or not at all', async () => {
      await engine.startSaga('pair', 'flow', { n: 1 });
      await engine.deliver([{ id: 'go-pair', key: 'pair', type: 'Go' }]);
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      await appendToStream(d.db, 'notes-pair', 'any', [{ type: 'Note', data: null }]); // after the checkpoint: held
      const streams = (machine: string, id: string) => [`${machine}-${id}`, `notes-${id}`];
      const policy = { finishedAfterMs: 0, inboxAfterMs: 3_600_000, mode: 'delete' as const };
      expect(await runSagaRetention(d.db, policy, streams)).toMatchObject({ held: 1 }); // earlier tests' finished sagas may leave here
      expect((await engine.getSaga('pair'))?.status).toBe('final');
      expect(await readStream(d.db, 'flow-pair')).not.toEqual([]); // not removed while its sibling is held
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      expect(await runSagaRetention(d.db, policy, streams)).toMatchObject({ sagas: 1, held: 0 });
      expect(await readStream(d.db, 'notes-pair')).toEqual([]);
    });

    it('trims an outbox-only log and its inbox by age', async () => {
      await appendToStream(d.db, 'inventory-o1', 'any', [{ type: 'InventoryReserved', data: {}, metadata: { topic: 'inventory-events' } }]);
      await d.db.query(`UPDATE ordo_messages SET created_at = now() - interval '3 hours' WHERE stream = 'inventory-o1'`);
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      expect(await runOutboxRetention(d.db, { finishedAfterMs: 0, inboxAfterMs: 3_600_000, mode: 'archive' })).toMatchObject({ messages: expect.any(Number) as number });
      expect(await readStream(d.db, 'inventory-o1')).toEqual([]);
    });

    it('vacuums the tables the engine churned where autovacuum does not, so finished sagas leave no dead rows behind', async () => {
      // As on a server with autovacuum off (PGlite never runs it: one process, no worker).
      for (const t of SAGA_CHURN_TABLES) await d.db.query(`ALTER TABLE ${t} SET (autovacuum_enabled = off)`);
      const ids = Array.from({ length: 400 }, (_, i) => `churn-${i}`);
      await Promise.all(ids.map((id) => engine.startSaga(id, 'flow', { n: 1 })));
      await engine.deliver(ids.map((id) => ({ id: `go-${id}`, key: id, type: 'Go' })));
      await saveCheckpoint(d.db, 'orders-outbox', await lastGlobalPosition(d.db));
      const size = async () => count(d.db, `SELECT pg_relation_size('ordo_messages')::text AS n`);
      const grown = await size();
      const policy = { finishedAfterMs: 0, inboxAfterMs: 3_600_000, mode: 'delete' as const };

      // 'never': the sagas leave, their rows stay behind dead, and the log keeps its pages.
      expect(await runSagaRetention(d.db, { ...policy, vacuum: 'never' })).toMatchObject({ sagas: ids.length, vacuumed: [] });
      // The statistics reach pg_stat_* shortly after the deleting transaction.
      const deadMessages = async () => (await vacuumState(d.db, ['ordo_messages']))[0];
      for (let i = 0; i < 200 && ((await deadMessages())?.dead ?? 0) < 2 * ids.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await deadMessages()).toMatchObject({ autovacuum: false });
      expect((await deadMessages())?.dead).toBeGreaterThanOrEqual(2 * ids.length);
      expect(await size()).toBe(grown);

      // 'auto' (the default): the round vacuums them; the empty pages at the log's end go back.
      const report = await runSagaRetention(d.db, policy);
      expect(report.vacuumed).toContain('ordo_messages');
      expect(report.vacuumed).toContain('ordo_saga_instances');
      expect(await size()).toBeLessThan(grown);
      for (const t of SAGA_CHURN_TABLES) await d.db.query(`ALTER TABLE ${t} RESET (autovacuum_enabled)`);
    });

    it('refuses a policy that makes no sense', async () => {
      await expect(runSagaRetention(d.db, { finishedAfterMs: -1, inboxAfterMs: 0, mode: 'delete' })).rejects.toMatchObject({ code: 'INVALID_ENGINE_OPTION' });
      await expect(runSagaRetention(d.db, { finishedAfterMs: 0, inboxAfterMs: 0, mode: 'shred' as never })).rejects.toThrow(/mode/);
      await expect(runSagaRetention(d.db, { finishedAfterMs: 0, inboxAfterMs: 0, mode: 'delete', vacuum: 'sometimes' as never })).rejects.toThrow(/vacuum/);
    });
  });
}
