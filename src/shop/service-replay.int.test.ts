import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../observe/index.js';
import { freshPglite, freshPostgres, type FreshDatabase } from '../testing/index.js';
import { createInProcessTransport, type Message } from '../transport/index.js';
import { topics } from './contracts.js';
import { hostService, type ServiceDefinition } from './service-host.js';
import { REPLAY_DEAD_LETTER } from './service-dead-letters.js';

/*
 * A participant's dead letter, replayed: a handler that keeps failing is given up on by
 * the transport and kept in the service's own table; once the cause is gone, the
 * operator's ReplayDeadLetter command makes the service handle the stored message again —
 * once, however often the replay is sent.
 */

const engines: [string, () => Promise<FreshDatabase>][] = [
  ['PGlite', freshPglite],
  ['the PostgreSQL server', () => freshPostgres('replay')],
];

describe.each(engines)('replaying a participant’s dead letter on %s', (_name, open) => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('keeps a message given up on, handles it again on a replay command once the cause is gone, and only once', async () => {
    const fresh = await open();
    const db = fresh.db;
    const transport = createInProcessTransport();
    stops.push(() => fresh.close(), () => transport.close());
    let broken = true;
    let handled = 0;
    const def: ServiceDefinition = {
      name: 'inventory',
      migrations: [],
      eventsTopic: topics.events('inventory'),
      subscriptions: {
        [topics.commands('inventory')]: {
          Work: {
            schema: z.object({ orderId: z.string() }) as never,
            apply: async (_tx, p: { orderId: string }) => {
              if (broken) throw new Error('the warehouse system is down');
              handled++;
              return Promise.resolve([{ type: 'DeliveryConfirmed' as const, payload: { orderId: p.orderId } }]);
            },
          },
        },
      },
    };
    const service = await hostService(def, db, transport, silentLogger(), { maxDeliver: 2 });
    stops.push(() => service.stop());
    const reports: Message[] = [];
    const sub = await transport.subscribe({ topic: topics.events('inventory'), group: 'test', handler: ({ message }) => (reports.push(message), Promise.resolve()) });
    stops.push(() => sub.close());

    const orderId = randomUUID();
    await transport.publish([{ id: randomUUID(), topic: topics.commands('inventory'), key: orderId, type: 'Work', payload: { orderId }, headers: {} }]);
    type Row = { id: string; reason: string; replayed_at: Date | null; replayed_by: string | null; replay_outcome: string | null };
    const rows = async () => (await db.query<Row>('SELECT id::text AS id, reason, replayed_at, replayed_by, replay_outcome FROM service_dead_letters ORDER BY id')).rows;
    await vi.waitFor(async () => expect(await rows()).toHaveLength(1), { timeout: 15_000, interval: 20 });
    const [dead] = await rows();
    expect(dead?.reason).toMatch(/gave up after 2 attempts: .*warehouse system is down/);
    expect(handled).toBe(0);

    broken = false;
    const replay = (id: string) => ({ id: randomUUID(), topic: topics.commands('inventory'), key: `dead-letter-${id}`, type: REPLAY_DEAD_LETTER, payload: { deadLetterId: id, actor: 'ops:ana' }, headers: {} });
    await transport.publish([replay(dead?.id ?? '')]);
    await vi.waitFor(() => expect(reports.map((r) => r.type)).toEqual(['DeliveryConfirmed']), { timeout: 15_000, interval: 20 });
    await vi.waitFor(async () => expect((await rows())[0]).toMatchObject({ replayed_by: 'ops:ana', replay_outcome: 'handled' }), { timeout: 15_000, interval: 20 });

    // A second replay of the same dead letter (a double click, a redelivered command) changes nothing.
    await transport.publish([replay(dead?.id ?? ''), { ...replay('999999'), payload: { deadLetterId: 'not-a-number' } }]);
    await vi.waitFor(async () => expect(await rows()).toHaveLength(2), { timeout: 15_000, interval: 20 }); // the malformed command is a dead letter of its own
    expect((await rows())[1]?.reason).toMatch(/^invalid ReplayDeadLetter/);
    expect(handled).toBe(1);
    expect(reports).toHaveLength(1);
  });
});
