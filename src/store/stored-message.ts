/** A message to append; `id` defaults to a random UUID and is the dedup key downstream. */
export interface NewMessage {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Record<string, unknown>;
}

/** A message as it is in the log. */
export interface StoredMessage {
  /** Unique, increasing in insertion order (not commit order). */
  readonly position: bigint;
  /** The writing transaction's id (`pg_current_xact_id()`); with `position` it gives the global order. */
  readonly txId: bigint;
  readonly stream: string;
  /** 1 for the first message of a stream, then 2, 3, … without gaps. */
  readonly streamVersion: number;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
}

/**
 * The columns every read selects, with 64-bit numbers as text so both engines agree.
 * The aliases shadow the columns: qualify ORDER BY columns with the table alias (m.position),
 * or PostgreSQL sorts by the text output.
 */
export const MESSAGE_COLUMNS =
  'm.position::text AS position, m.tx_id::text AS tx_id, m.stream, m.stream_version, m.id, m.type, m.data, m.metadata, m.created_at';

export interface MessageRow {
  readonly position: string;
  readonly tx_id: string;
  readonly stream: string;
  readonly stream_version: number;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown> | null;
  readonly created_at: Date | string;
}

export function toStoredMessage(r: MessageRow): StoredMessage {
  return {
    position: BigInt(r.position),
    txId: BigInt(r.tx_id),
    stream: r.stream,
    streamVersion: Number(r.stream_version),
    id: r.id,
    type: r.type,
    data: r.data,
    metadata: r.metadata ?? {},
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}
