import type { Queryable, ReadingStatement, Statement } from './db.js';
import { InvalidStoreInputError } from './errors.js';
import { preparedStatement } from './prepared.js';
import { LOG_START, pageBelowHorizonSql, type GlobalPosition } from './read-all.js';
import { toStoredMessage, type MessageRow, type StoredMessage } from './stored-message.js';

// Every projection batch loads and saves its checkpoint: prepared once per connection.
const LOAD_SQL = preparedStatement('SELECT tx_id::text AS tx_id, position::text AS position FROM ordo_checkpoints WHERE name = $1');
const SAVE_SQL = preparedStatement(
  `INSERT INTO ordo_checkpoints (name, tx_id, position) VALUES ($1, $2::text::xid8, $3::bigint)
   ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`,
);

/** Where the reader `name` (a projection, the outbox relay) stopped; LOG_START when it never ran. */
export async function loadCheckpoint(q: Queryable, name: string): Promise<GlobalPosition> {
  const s = loadCheckpointStatement(name);
  return s.read(await q.query(s.statement.sql, s.statement.params));
}

/** `loadCheckpoint` as a statement, to go with others in one round trip (`runStatements`). */
export function loadCheckpointStatement(name: string): ReadingStatement<GlobalPosition> {
  checkName(name);
  return {
    statement: { sql: LOAD_SQL, params: [name] },
    read: (r) => {
      const row = r.rows[0] as { tx_id: string; position: string } | undefined;
      return row ? { txId: BigInt(row.tx_id), position: BigInt(row.position) } : LOG_START;
    },
  };
}

/*
 * The messages after the reader's checkpoint, in global order, below the read horizon (as
 * readAll), the checkpoint read by the statement itself: a projection batch takes its lock,
 * reads its checkpoint and reads the messages after it in one round trip. Each statement of
 * a script sees what committed before it started, so the read sees every commit made under
 * the lock taken before it.
 */
const READ_AFTER_CHECKPOINT_SQL = preparedStatement(
  pageBelowHorizonSql(
    `(coalesce((SELECT c.tx_id FROM ordo_checkpoints c WHERE c.name = $1), '0'::xid8),
      coalesce((SELECT c.position FROM ordo_checkpoints c WHERE c.name = $1), 0))`,
    '$2',
  ),
);

/** Up to `limit` messages after the reader `name`'s checkpoint (readAll from `loadCheckpoint`), as a statement to go with others. */
export function readAfterCheckpointStatement(name: string, limit: number): ReadingStatement<StoredMessage[]> {
  checkName(name);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidStoreInputError('limit', `must be a positive integer, got ${String(limit)}`);
  return { statement: { sql: READ_AFTER_CHECKPOINT_SQL, params: [name, limit] }, read: (r) => (r.rows as unknown as MessageRow[]).map(toStoredMessage) };
}

/** Records the reader's position; pass the transaction that applied its effects so both commit together. */
export async function saveCheckpoint(tx: Queryable, name: string, at: GlobalPosition): Promise<void> {
  const s = saveCheckpointStatement(name, at);
  await tx.query(s.sql, s.params);
}

/** `saveCheckpoint` as a statement, to go with others (or with the COMMIT) in one round trip. */
export function saveCheckpointStatement(name: string, at: GlobalPosition): Statement {
  checkName(name);
  if (typeof at?.txId !== 'bigint' || typeof at.position !== 'bigint') throw new InvalidStoreInputError('at', 'must be a GlobalPosition');
  return { sql: SAVE_SQL, params: [name, at.txId.toString(), at.position.toString()] };
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidStoreInputError('name', 'must be a non-empty string');
}
