import { z } from 'zod';
import type { Migration, Queryable } from '../store/index.js';
import type { Message } from '../transport/index.js';

/*
 * A participant service's dead letters: messages it could not read (a payload its schema
 * refuses) and messages whose handling kept failing until the transport gave up. They
 * wait in the service's own database until an operator replays them: the gateway sends
 * the service a ReplayDeadLetter command (through its outbox, like every command), and
 * the service handles the stored message again itself — nobody else writes its tables.
 */

export const serviceDeadLetterMigrations: readonly Migration[] = [
  {
    version: 900,
    name: 'service dead letters',
    sql: `
      CREATE TABLE IF NOT EXISTS service_dead_letters (
        id bigserial PRIMARY KEY,
        message_id text NOT NULL,
        topic text NOT NULL,
        type text NOT NULL,
        message jsonb NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 901,
    name: 'service dead letters: replay',
    sql: `
      ALTER TABLE service_dead_letters
        ADD COLUMN IF NOT EXISTS replayed_at timestamptz,
        ADD COLUMN IF NOT EXISTS replayed_by text,
        ADD COLUMN IF NOT EXISTS replay_outcome text;
    `,
  },
];

/** The command an operator's replay sends to `<service>-commands`. */
export const REPLAY_DEAD_LETTER = 'ReplayDeadLetter';
export const ReplayDeadLetter = z.object({
  deadLetterId: z.string().regex(/^[0-9]{1,18}$/, 'a dead letter id'),
  actor: z.string().max(200).optional(),
});
export type ReplayDeadLetter = z.infer<typeof ReplayDeadLetter>;

export async function recordServiceDeadLetter(q: Queryable, message: Message, reason: string): Promise<void> {
  await q.query('INSERT INTO service_dead_letters (message_id, topic, type, message, reason) VALUES ($1, $2, $3, $4, $5)', [
    message.id,
    message.topic,
    message.type,
    JSON.stringify(message),
    reason.slice(0, 2000),
  ]);
}

/** The stored message of a dead letter still waiting for a replay; undefined when none (unknown or replayed). */
export async function waitingDeadLetter(q: Queryable, id: string): Promise<Message | undefined> {
  const r = await q.query<{ message: Message }>('SELECT message FROM service_dead_letters WHERE id = $1::bigint AND replayed_at IS NULL', [id]);
  return r.rows[0]?.message;
}

/** Marks a dead letter replayed (once: false when it already was). */
export async function markReplayed(q: Queryable, id: string, by: string, outcome: string): Promise<boolean> {
  const r = await q.query('UPDATE service_dead_letters SET replayed_at = now(), replayed_by = $2, replay_outcome = $3 WHERE id = $1::bigint AND replayed_at IS NULL', [id, by, outcome]);
  return r.rowCount > 0;
}
