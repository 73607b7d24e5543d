import type { Queryable } from './db.js';
import { InvalidStoreInputError } from './errors.js';
import { preparedStatement } from './prepared.js';
import { MESSAGE_COLUMNS, toStoredMessage, type MessageRow, type StoredMessage } from './stored-message.js';

export interface ReadStreamOptions {
  /** First stream version to return (default 1; backwards: the newest). */
  readonly fromVersion?: number;
  /** At most this many messages (default: all). */
  readonly limit?: number;
  /** 'backwards': newest first, from `fromVersion` down (the last message: `{ direction: 'backwards', limit: 1 }`). */
  readonly direction?: 'forwards' | 'backwards';
}

const READ_STREAM_SQL = preparedStatement(`SELECT ${MESSAGE_COLUMNS} FROM ordo_messages m WHERE m.stream = $1 AND m.stream_version >= $2 ORDER BY m.stream_version LIMIT $3`);
const READ_STREAM_BACKWARDS_SQL = preparedStatement(
  `SELECT ${MESSAGE_COLUMNS} FROM ordo_messages m WHERE m.stream = $1 AND m.stream_version <= $2 ORDER BY m.stream_version DESC LIMIT $3`,
);

/** The highest stream version there can be (stream_version is an integer). */
const LAST_VERSION = 2_147_483_647;

/** A stream's messages in stream order, or newest first (empty when the stream does not exist). */
export async function readStream(q: Queryable, stream: string, options: ReadStreamOptions = {}): Promise<StoredMessage[]> {
  if (typeof stream !== 'string' || stream.length === 0) throw new InvalidStoreInputError('stream', 'must be a non-empty string');
  const direction = options.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') throw new InvalidStoreInputError('direction', `must be 'forwards' or 'backwards', got ${String(direction)}`);
  const backwards = direction === 'backwards';
  const from = options.fromVersion ?? (backwards ? LAST_VERSION : 1);
  if (!Number.isInteger(from) || from < 0) throw new InvalidStoreInputError('fromVersion', `must be a non-negative integer, got ${String(from)}`);
  const limit = options.limit ?? null;
  if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw new InvalidStoreInputError('limit', `must be a non-negative integer, got ${String(limit)}`);
  const r = await q.query<MessageRow>(backwards ? READ_STREAM_BACKWARDS_SQL : READ_STREAM_SQL, [stream, Math.min(from, LAST_VERSION), limit]);
  return r.rows.map(toStoredMessage);
}
