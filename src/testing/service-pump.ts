import { OrdoError } from '../machine/index.js';
import { globalPositionOf, loadCheckpoint, readAll, readAllVisible, runStatements, saveCheckpoint, type Db, type Statement } from '../store/index.js';
import type { IncomingMessage, SagaEngine } from '../runtime/index.js';
import { ledgerStatement, SimulatedBooks } from './simulated-books.js';
import { SimulatedServices, text, type Handled, type SimCommand } from './simulated-services.js';

export interface ServicePumpOptions {
  readonly db: Db;
  readonly engine: Pick<SagaEngine, 'deliver'>;
  readonly services: SimulatedServices;
  /** Checkpoint name (default `sim-services`). */
  readonly name?: string;
  /** Log messages per round (default 200). */
  readonly batchSize?: number;
  /** How long `pumpServicesUntilIdle` waits for committed messages that the log does not yet let it read (default 30 s). */
  readonly heldBackTimeoutMs?: number;
}

/**
 * Committed messages stayed unreadable: a transaction that took its id before they were
 * written is still open, possibly in another database of the same server (transaction
 * ids and snapshots are server-wide).
 */
export class LogHeldBackError extends OrdoError {
  readonly code = 'LOG_HELD_BACK';
  readonly retryable = true;
  constructor(readonly waitedMs: number) {
    super(`committed log messages stayed unreadable for ${waitedMs} ms: an older transaction on the server is still open`);
  }
}

/**
 * Carries the engine's outgoing commands to the simulated services and their replies
 * back, durably: it reads the message log from its checkpoint, handles each command
 * once (its replies are stored with it, so after a crash the same replies are
 * re-delivered and the engine's inbox drops the repeats), delivers the replies, and
 * only then moves the checkpoint. A crash at any point loses nothing.
 *
 * This stands in for the outbox relay + a transport + the services' consumers, with the
 * same at-least-once / inbox contract, in one process and without a broker.
 */
export async function pumpServicesOnce(o: ServicePumpOptions): Promise<number> {
  const name = o.name ?? 'sim-services';
  const from = await loadCheckpoint(o.db, name);
  const messages = await readAll(o.db, from, o.batchSize ?? 200);
  const last = messages.at(-1);
  if (!last) return 0;
  const commands = messages.filter((m) => m.metadata['kind'] === 'command');
  const replies = commands.length > 0 ? await handleRound(o.db, o.services, commands) : [];
  if (replies.length > 0) await o.engine.deliver(replies);
  await saveCheckpoint(o.db, name, globalPositionOf(last));
  return messages.length;
}

/**
 * Handles a round's commands once each, in one transaction of two round trips on a
 * server: (1) BEGIN, the advisory lock (several pumps on one database take turns), the
 * `sim_handled` rows of the round's commands and the ledger rows they touch; the
 * decisions in memory in log order; (2) the writes, set-based, with the new commands'
 * `sim_handled` rows (their replies, re-delivered as they are after a crash), and COMMIT.
 * Returns the replies of every command, stored or new, in log order.
 */
async function handleRound(db: Db, services: SimulatedServices, commands: readonly SimCommand[]): Promise<IncomingMessage[]> {
  return db.transaction(async (tx) => {
    const pairs = SimulatedServices.ledgerPairs(commands);
    const [, seen, ledger] = await runStatements(tx, [
      { sql: `SELECT pg_advisory_xact_lock(hashtext('ordo-sim-services'))` },
      { sql: 'SELECT message_id, replies FROM sim_handled WHERE message_id = ANY($1::text[])', params: [commands.map((c) => c.id)] },
      ledgerStatement(pairs),
    ]);
    const stored = new Map((seen?.rows ?? []).map((r) => [String(r['message_id']), r['replies'] as IncomingMessage[]]));
    const books = new SimulatedBooks(pairs, ledger?.rows ?? []);
    const replies: IncomingMessage[] = [];
    const fresh: { cmd: SimCommand; r: Handled }[] = [];
    for (const cmd of commands) {
      const before = stored.get(cmd.id);
      if (before) {
        replies.push(...before);
        continue;
      }
      const r = services.decide(books, cmd);
      fresh.push({ cmd, r });
      replies.push(...r.replies);
    }
    if (fresh.length > 0) await runStatements(tx, [...books.statements(), handledStatement(fresh)], { commit: true });
    return replies;
  });
}

function handledStatement(handled: readonly { cmd: SimCommand; r: Handled }[]): Statement {
  return {
    sql: `INSERT INTO sim_handled (message_id, service, type, order_id, fate, replies)
          SELECT m, s, t, o, f, r::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(m, s, t, o, f, r)`,
    params: [
      handled.map((h) => h.cmd.id),
      handled.map((h) => text(h.cmd.metadata['to'])),
      handled.map((h) => h.cmd.type),
      handled.map((h) => text(h.cmd.metadata['key'])),
      handled.map((h) => h.r.fate),
      handled.map((h) => JSON.stringify(h.r.replies)),
    ],
  };
}

/**
 * Pumps until the log has nothing new. "Nothing readable" is not "nothing new": `readAll`
 * reads only below the server's oldest open transaction, so while any transaction on the
 * server (another database's included) is older than the newest commands, they are
 * committed but unreadable. A caller that took that for idle would move a virtual clock
 * past the replies' deadlines and time the saga out; this waits until they can be read.
 */
export async function pumpServicesUntilIdle(o: ServicePumpOptions): Promise<number> {
  let total = 0;
  let heldSince: number | undefined;
  for (;;) {
    const n = await pumpServicesOnce(o);
    total += n;
    if (n > 0) {
      heldSince = undefined;
      continue;
    }
    const unread = await readAllVisible(o.db, await loadCheckpoint(o.db, o.name ?? 'sim-services'), 1);
    if (unread.length === 0) return total;
    heldSince ??= Date.now();
    const waited = Date.now() - heldSince;
    if (waited > (o.heldBackTimeoutMs ?? 30_000)) throw new LogHeldBackError(waited);
    await new Promise((r) => setTimeout(r, 10));
  }
}
