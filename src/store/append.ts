import { randomUUID } from 'node:crypto';
import type { Db, Queryable, Statement } from './db.js';
import { DuplicateMessageIdError, ExpectedVersionConflictError, InvalidStoreInputError, whenNotMigrated, type ExpectedVersion } from './errors.js';
import type { NewMessage } from './stored-message.js';
import { preparedStatement } from './prepared.js';
import { APPEND_SET_SQL, appendSetParams, appendSetStatementSql, functionPayload, type EncodedMessage } from './append-set.js';
import { jsonArrayText, jsonbArraySql } from './jsonb-array.js';

export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` next time. */
  readonly nextExpectedVersion: number;
  readonly positions: bigint[];
}

/*
 * One call of the `ordo_append` function (store-migrations.ts v4): it reads the stream's
 * last version and writing transaction, checks both, and inserts every message. Two
 * appends racing for the same version both pass the check, and the unique
 * (stream, stream_version) index makes the second fail (translated below).
 *
 * The transaction-order check keeps a stream's messages in the same order in the global
 * order (tx_id, position) as in the stream: a transaction that got its id before the
 * stream's last writer must not append after it. See ExpectedVersionConflictError.
 */
const APPEND_SQL = 'SELECT version, in_order, positions FROM ordo_append($1, $2, $3::text::jsonb)';

const MAX_STREAM_LENGTH = 500;

/**
 * Appends messages to a stream if it holds exactly `expectedVersion` messages
 * (`'no_stream'` = 0, `'any'` = no check). Pass the handler's transaction so the messages
 * commit with its other writes (the outbox). Throws ExpectedVersionConflictError
 * (retryable) on a mismatch or a lost race, DuplicateMessageIdError on a reused id.
 */
export async function appendToStream(
  tx: Queryable,
  stream: string,
  expectedVersion: ExpectedVersion,
  messages: readonly NewMessage[],
): Promise<AppendResult> {
  checkStream(stream);
  const expected = expectedNumber(expectedVersion);
  const payload = encode(messages);
  if (messages.length === 0) {
    const current = await streamVersion(tx, stream);
    if (expected !== null && current !== expected) throw new ExpectedVersionConflictError(stream, expectedVersion, current);
    return { nextExpectedVersion: current, positions: [] };
  }
  let row: { version: number; in_order: boolean; positions: string | null } | undefined;
  try {
    const r = await tx.query<{ version: number; in_order: boolean; positions: string | null }>(APPEND_SQL, [stream, expected, functionPayload(payload.messages)]);
    row = r.rows[0];
  } catch (err) {
    throw translate(err, stream, expectedVersion, payload.ids);
  }
  if (!row) throw new Error('ordo_append returned no row'); // unreachable: it always returns one
  const version = Number(row.version);
  if (!row.in_order) throw new ExpectedVersionConflictError(stream, expectedVersion, version, 'transaction-order');
  if (row.positions === null) throw new ExpectedVersionConflictError(stream, expectedVersion, version);
  return { nextExpectedVersion: version + messages.length, positions: row.positions.split(',').map((p) => BigInt(p)) };
}

/** One stream's part of an `appendToStreams` call. */
export interface StreamAppend {
  readonly stream: string;
  readonly expectedVersion: ExpectedVersion;
  readonly messages: readonly NewMessage[];
}

/* `ordo_append` once per stream, in the order given, inside one statement (a call naming a stream with 'any'; else append-set.ts). */
const APPEND_MANY_FROM = `FROM unnest($1::text[], $2::integer[], ${jsonbArraySql('$3')}) WITH ORDINALITY AS s(stream, expected, messages, ord),
    LATERAL ordo_append(s.stream, s.expected, s.messages) AS a
    ORDER BY s.ord`;
const APPEND_MANY_SQL = `SELECT a.version, a.in_order, a.positions ${APPEND_MANY_FROM}`;

/** The message `ordo_conflict` raises for a stream (appendToStreamsStatement). */
const STREAM_CONFLICT = 'ordo: stream version conflict';

const APPEND_SET_STATEMENT_SQL = appendSetStatementSql(STREAM_CONFLICT);

const APPEND_STATEMENT_SQL = preparedStatement(`SELECT CASE WHEN a.in_order AND a.positions IS NOT NULL THEN a.version
      ELSE ordo_conflict('${STREAM_CONFLICT}', json_build_object('stream', s.stream, 'expected', s.expected, 'version', a.version, 'inOrder', a.in_order)::text) END AS version
    ${APPEND_MANY_FROM}`);

/**
 * `appendToStreams` as a statement to run in a script that may also commit (Queryable.batch):
 * the version and transaction-order checks happen in the statement (`ordo_conflict` raises
 * a retryable serialization failure), and `translate` turns the statement's error into the
 * error `appendToStreams` throws. Each row of the result is one stream's new version.
 */
export function appendToStreamsStatement(appends: readonly StreamAppend[]): { readonly statement: Statement; readonly translate: (err: unknown) => unknown } {
  const checked = checkAppends(appends);
  const { ids } = checked;
  const set = appendSetParams(checked.encoded);
  const translate = (err: unknown): unknown => {
    const e = err as { code?: string; message?: string; detail?: string };
    if (e.code === '40001' && e.message === STREAM_CONFLICT && typeof e.detail === 'string') {
      const d = JSON.parse(e.detail) as { stream: string; expected: number | null; version: number; inOrder: boolean };
      const asked = appends.find((a) => a.stream === d.stream)?.expectedVersion ?? d.expected ?? 'any';
      return new ExpectedVersionConflictError(d.stream, asked, d.version, d.inOrder ? 'version' : 'transaction-order');
    }
    return translateMany(err, appends, ids);
  };
  const statement = set ? { sql: APPEND_SET_STATEMENT_SQL, params: set } : { sql: APPEND_STATEMENT_SQL, params: functionParams(checked) };
  return { statement, translate };
}

/** The appends of one call, checked and encoded: each stream's expected version (null = 'any') and messages, and every message id's stream. */
interface CheckedAppends {
  readonly encoded: { stream: string; expected: number | null; messages: EncodedMessage[] }[];
  readonly ids: Map<string, string>;
}

/** Checks and encodes the appends of one call: a stream once, every message id once. */
function checkAppends(appends: readonly StreamAppend[]): CheckedAppends {
  if (!isArray(appends)) throw new InvalidStoreInputError('appends', 'must be an array');
  const streams = new Set<string>();
  const allIds = new Map<string, string>(); // message id -> stream
  const encoded: CheckedAppends['encoded'] = [];
  appends.forEach((a, i) => {
    if (typeof a !== 'object' || a === null) throw new InvalidStoreInputError(`appends[${i}]`, 'must be an object');
    checkStream(a.stream);
    if (streams.has(a.stream)) throw new InvalidStoreInputError(`appends[${i}].stream`, `${a.stream} appears twice in one call: append its messages together`);
    streams.add(a.stream);
    const expected = expectedNumber(a.expectedVersion);
    const payload = encode(a.messages);
    for (const id of payload.ids) {
      if (allIds.has(id)) throw new InvalidStoreInputError(`appends[${i}].messages`, `id ${id} appears twice in one call`);
      allIds.set(id, a.stream);
    }
    encoded.push({ stream: a.stream, expected, messages: payload.messages });
  });
  return { encoded, ids: allIds };
}

/** The parameters of APPEND_MANY_SQL / APPEND_STATEMENT_SQL: streams, expected versions, each stream's messages as one JSON array (all of them in one: jsonb-array.ts). */
function functionParams(c: CheckedAppends): unknown[] {
  return [c.encoded.map((e) => e.stream), c.encoded.map((e) => e.expected), jsonArrayText(c.encoded.map((e) => functionPayload(e.messages)))];
}

/**
 * `appendToStream` for many streams in one round trip (same checks, same rows, same
 * errors); returns each stream's result in the order given. A stream may appear once.
 * All or nothing: pass a transaction and let the error roll it back (on a conflict the
 * other streams' messages are already in it); given a Db, it runs in a transaction of its own.
 */
export async function appendToStreams(q: Queryable | Db, appends: readonly StreamAppend[]): Promise<AppendResult[]> {
  if (!isArray(appends)) throw new InvalidStoreInputError('appends', 'must be an array');
  if (appends.length === 0) return [];
  if (isDb(q)) return q.transaction((tx) => appendToStreams(tx, appends));
  const checked = checkAppends(appends);
  const { encoded, ids: allIds } = checked;
  const set = appendSetParams(encoded);
  let rows: { version: number; in_order: boolean; positions: string | null }[];
  try {
    rows = (await q.query<{ version: number; in_order: boolean; positions: string | null }>(set ? APPEND_SET_SQL : APPEND_MANY_SQL, set ?? functionParams(checked))).rows;
  } catch (err) {
    throw translateMany(err, appends, allIds);
  }
  if (rows.length !== appends.length) throw new Error(`ordo_append returned ${rows.length} rows for ${appends.length} streams`); // unreachable
  return appends.map((a, i) => {
    const row = rows[i]!;
    const version = Number(row.version);
    if (a.messages.length === 0) {
      const want = encoded[i]?.expected ?? null;
      if (want !== null && version !== want) throw new ExpectedVersionConflictError(a.stream, a.expectedVersion, version);
      return { nextExpectedVersion: version, positions: [] };
    }
    if (!row.in_order) throw new ExpectedVersionConflictError(a.stream, a.expectedVersion, version, 'transaction-order');
    if (row.positions === null) throw new ExpectedVersionConflictError(a.stream, a.expectedVersion, version);
    return { nextExpectedVersion: version + a.messages.length, positions: row.positions.split(',').map((p) => BigInt(p)) };
  });
}

/** Array.isArray without narrowing a typed array to any[] (the check is for callers without types). */
const isArray = (v: unknown): boolean => Array.isArray(v);

function isDb(q: Queryable | Db): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

/** The error of one `appendToStreams` statement, naming the stream it was about when the database says which. */
function translateMany(err: unknown, appends: readonly StreamAppend[], ids: ReadonlyMap<string, string>): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code !== '23505') return whenNotMigrated(err);
  const key = /^Key \(.+?\)=\((.*)\) already exists/.exec(e.detail ?? '')?.[1];
  if (e.constraint === 'ordo_messages_id_key') {
    const stream = key !== undefined ? ids.get(key) : undefined;
    return stream !== undefined ? new DuplicateMessageIdError(stream, [key!]) : new DuplicateMessageIdError(appends.map((a) => a.stream).join(', '), [...ids.keys()]);
  }
  if (e.constraint === 'ordo_messages_stream_version_key') {
    const raced = appends.find((a) => key?.startsWith(`${a.stream}, `)) ?? appends[0]!;
    return new ExpectedVersionConflictError(raced.stream, raced.expectedVersion, null);
  }
  return err;
}

/** The number of messages in a stream (0 when it does not exist). */
export async function streamVersion(q: Queryable, stream: string): Promise<number> {
  checkStream(stream);
  const r = await q.query<{ v: number }>(preparedStatement('SELECT coalesce(max(stream_version), 0) AS v FROM ordo_messages WHERE stream = $1'), [stream]);
  return Number(r.rows[0]?.v ?? 0);
}

function checkStream(stream: string): void {
  if (typeof stream !== 'string' || stream.length === 0) throw new InvalidStoreInputError('stream', 'must be a non-empty string');
  if (stream.length > MAX_STREAM_LENGTH) throw new InvalidStoreInputError('stream', `must be at most ${MAX_STREAM_LENGTH} characters`);
}

function expectedNumber(e: ExpectedVersion): number | null {
  if (e === 'any') return null;
  if (e === 'no_stream') return 0;
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e > 2 ** 31 - 1) {
    throw new InvalidStoreInputError('expectedVersion', `must be a non-negative integer, 'any' or 'no_stream', got ${String(e)}`);
  }
  return e;
}

function encode(messages: readonly NewMessage[]): { messages: EncodedMessage[]; ids: string[] } {
  if (!Array.isArray(messages)) throw new InvalidStoreInputError('messages', 'must be an array');
  const ids = new Set<string>();
  const encoded = messages.map((m: NewMessage, i): EncodedMessage => {
    const at = `messages[${i}]`;
    if (typeof m !== 'object' || m === null) throw new InvalidStoreInputError(at, 'must be an object');
    if (typeof m.type !== 'string' || m.type.length === 0) throw new InvalidStoreInputError(`${at}.type`, 'must be a non-empty string');
    if (m.id !== undefined && (typeof m.id !== 'string' || m.id.length === 0)) throw new InvalidStoreInputError(`${at}.id`, 'must be a non-empty string when given');
    if (m.metadata !== undefined && (typeof m.metadata !== 'object' || m.metadata === null || Array.isArray(m.metadata))) {
      throw new InvalidStoreInputError(`${at}.metadata`, 'must be a plain object when given');
    }
    const id = m.id ?? randomUUID();
    if (ids.has(id)) throw new InvalidStoreInputError(`${at}.id`, `${id} appears twice in one append`);
    ids.add(id);
    return { id, type: m.type, data: json(m.data ?? null, `${at}.data`), metadata: json(m.metadata ?? {}, `${at}.metadata`) };
  });
  return { messages: encoded, ids: [...ids] };
}

/** JSON text of a message's part (a value JSON has no text for, e.g. a function, is refused); errors name the field `messages`. */
function json(value: unknown, at: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value); // undefined for a function or a symbol, whatever its type says
  } catch (err) {
    throw new InvalidStoreInputError('messages', `cannot be stored as JSON (${at}): ${(err as Error).message}`);
  }
  if (text === undefined) throw new InvalidStoreInputError('messages', `cannot be stored as JSON (${at})`);
  return text;
}

function translate(err: unknown, stream: string, expected: ExpectedVersion, ids: string[]): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code !== '23505') return whenNotMigrated(err);
  if (e.constraint === 'ordo_messages_id_key') return new DuplicateMessageIdError(stream, ids);
  if (e.constraint === 'ordo_messages_stream_version_key') return new ExpectedVersionConflictError(stream, expected, null);
  return err;
}
