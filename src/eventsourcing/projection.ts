import type { Queryable, StoredMessage } from '../store/index.js';
import { ProjectionDefinitionError } from './errors.js';

export interface ProjectionContext {
  /** The transaction to write in: the append's (inline) or the batch's with its checkpoint (async). */
  readonly q: Queryable;
  /** The table to write: `projection.table`, or a fresh copy while rebuilding. */
  readonly table: string;
}

/**
 * A SQL read model fed by the log. The same definition runs inline (in the transaction
 * of the append, via the command handler), asynchronously (a checkpointed projector) and
 * in a rebuild; it must therefore write only to `ctx.table` and derive everything from
 * the messages (their `createdAt`, never `now()`), so a rebuild equals the incremental result.
 */
export interface Projection {
  /** Also the projector's checkpoint name. */
  readonly name: string;
  /** The live table readers query. */
  readonly table: string;
  /** Message types it reads; the others are skipped before `handle`. */
  readonly canHandle: readonly string[];
  /** Creates the table and its indexes under `table` if missing; index names must start with `table`. */
  setup(q: Queryable, table: string): Promise<void>;
  handle(messages: readonly StoredMessage[], ctx: ProjectionContext): Promise<void>;
}

const SQL_NAME = /^[a-z_][a-z0-9_]{0,40}$/;

/** Checks a definition once, so a bad table name fails before any SQL is built from it. */
export function defineProjection<P extends Projection>(projection: P): P {
  if (!SQL_NAME.test(projection.table)) throw new ProjectionDefinitionError(projection.name, `table "${projection.table}" must match ${SQL_NAME.source}`);
  if (projection.canHandle.length === 0) throw new ProjectionDefinitionError(projection.name, 'canHandle lists no message types');
  return Object.freeze(projection);
}

/** Runs the projection on the messages it handles, if any. */
export async function applyProjection(projection: Projection, messages: readonly StoredMessage[], q: Queryable, table = projection.table): Promise<void> {
  const mine = messages.filter((m) => projection.canHandle.includes(m.type));
  if (mine.length > 0) await projection.handle(mine, { q, table });
}
