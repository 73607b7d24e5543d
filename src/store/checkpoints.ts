import type { Queryable, ReadingStatement, Statement } from './db.js';
import { InvalidStoreInputError } from './errors.js';
import { preparedStatement } from './prepared.js';
import { LOG_START, type GlobalPosition } from './read-all.js';

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
