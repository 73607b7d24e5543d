import type { Queryable } from './db.js';
import { preparedStatement } from './prepared.js';
import type { GlobalPosition } from './read-all.js';

/*
 * A lease on a checkpoint row (ordo_checkpoints.owner / lease_until) so that, of several
 * processes running the outbox relay under one name, one publishes at a time. The lease
 * is renewed by every checkpoint save; a crashed holder's lease simply runs out.
 */

// Every relay round that published saves through this: prepared once per connection.
const SAVE_SQL = preparedStatement(
  `UPDATE ordo_checkpoints SET tx_id = $3::text::xid8, position = $4::bigint, updated_at = now(),
     lease_until = now() + $5::integer * interval '1 millisecond'
   WHERE name = $1 AND owner = $2 RETURNING 1 AS saved`,
);

/** Takes or renews the lease; returns the checkpoint when this owner holds it, null when another does. */
export async function claimLease(q: Queryable, name: string, owner: string, leaseMs: number): Promise<GlobalPosition | null> {
  await q.query(`INSERT INTO ordo_checkpoints (name, tx_id, position) VALUES ($1, '0'::xid8, 0) ON CONFLICT (name) DO NOTHING`, [name]);
  const r = await q.query<{ tx_id: string; position: string }>(
    `UPDATE ordo_checkpoints SET owner = $2, lease_until = now() + $3::integer * interval '1 millisecond'
     WHERE name = $1 AND (owner IS NULL OR owner = $2 OR lease_until < now())
     RETURNING tx_id::text AS tx_id, position::text AS position`,
    [name, owner, leaseMs],
  );
  const row = r.rows[0];
  return row ? { txId: BigInt(row.tx_id), position: BigInt(row.position) } : null;
}

/** Saves the checkpoint and renews the lease, only while this owner still holds it (false: it was taken over). */
export async function saveLeasedCheckpoint(q: Queryable, name: string, owner: string, leaseMs: number, at: GlobalPosition): Promise<boolean> {
  const r = await q.query(SAVE_SQL, [name, owner, at.txId.toString(), at.position.toString(), leaseMs]);
  return r.rows.length === 1;
}

/** Gives the lease up so a standby relay takes over at once. */
export async function releaseLease(q: Queryable, name: string, owner: string): Promise<void> {
  await q.query('UPDATE ordo_checkpoints SET owner = NULL, lease_until = NULL WHERE name = $1 AND owner = $2', [name, owner]);
}
