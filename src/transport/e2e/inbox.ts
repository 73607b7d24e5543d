// Test support for the acceptance tests: the inbox pattern from DESIGN.md §2 in its
// smallest form. The (consumer, message_id) row and the effect commit in one transaction,
// so a redelivered message finds its row and has no second effect.
import type pg from 'pg';
import type { Delivery } from '../transport.js';

export async function prepareInbox(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS inbox (consumer text NOT NULL, message_id text NOT NULL, PRIMARY KEY (consumer, message_id))`);
  // No unique constraint on purpose: a second effect of one message would show up here.
  await pool.query(`CREATE TABLE IF NOT EXISTS effects (n bigserial PRIMARY KEY, consumer text NOT NULL, message_id text NOT NULL, key text NOT NULL, seq int NOT NULL)`);
}

export async function handleOnce(pool: pg.Pool, consumer: string, delivery: Delivery): Promise<'handled' | 'duplicate'> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const fresh = await client.query('INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, delivery.message.id]);
    if (fresh.rowCount === 0) {
      await client.query('ROLLBACK');
      return 'duplicate';
    }
    const seq = (delivery.message.payload as { seq: number }).seq;
    await client.query('INSERT INTO effects (consumer, message_id, key, seq) VALUES ($1, $2, $3, $4)', [consumer, delivery.message.id, delivery.message.key, seq]);
    await client.query('COMMIT');
    return 'handled';
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface EffectsSummary {
  readonly messages: number;
  readonly effects: number;
  /** Message ids with more than one effect (must be empty). */
  readonly doubled: readonly string[];
  /** Keys whose effects are not in publish order (must be empty). */
  readonly outOfOrder: readonly string[];
}

export async function summariseEffects(pool: pg.Pool, consumer: string): Promise<EffectsSummary> {
  const rows = (await pool.query<{ message_id: string; key: string; seq: number }>('SELECT message_id, key, seq FROM effects WHERE consumer = $1 ORDER BY n', [consumer])).rows;
  const count = new Map<string, number>();
  const last = new Map<string, number>();
  const outOfOrder = new Set<string>();
  for (const r of rows) {
    count.set(r.message_id, (count.get(r.message_id) ?? 0) + 1);
    if ((last.get(r.key) ?? -1) >= r.seq) outOfOrder.add(r.key);
    last.set(r.key, r.seq);
  }
  return { messages: count.size, effects: rows.length, doubled: [...count].filter(([, n]) => n > 1).map(([id]) => id), outOfOrder: [...outOfOrder] };
}
