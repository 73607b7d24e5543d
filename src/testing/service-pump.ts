import { OrdoError } from '../machine/index.js';
import { globalPositionOf, loadCheckpoint, readAll, readAllVisible, saveCheckpoint, type Db } from '../store/index.js';
import type { IncomingMessage, SagaEngine } from '../runtime/index.js';
import { text, type SimulatedServices } from './simulated-services.js';

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
  const replies: IncomingMessage[] = [];
  if (commands.length > 0) {
    await o.db.transaction(async (tx) => {
      // Several pumps (worker processes) on one database take turns: each command is handled once.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('ordo-sim-services'))`);
      for (const cmd of commands) {
        const seen = await tx.query<{ replies: IncomingMessage[] }>('SELECT replies FROM sim_handled WHERE message_id = $1', [cmd.id]);
        const stored = seen.rows[0];
        if (stored) {
          replies.push(...stored.replies);
          continue;
        }
        const r = await o.services.handle(tx, cmd);
        await tx.query('INSERT INTO sim_handled (message_id, service, type, order_id, fate, replies) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)', [
          cmd.id,
          text(cmd.metadata['to']),
          cmd.type,
          text(cmd.metadata['key']),
          r.fate,
          JSON.stringify(r.replies),
        ]);
        replies.push(...r.replies);
      }
    });
  }
  if (replies.length > 0) await o.engine.deliver(replies);
  await o.db.transaction((tx) => saveCheckpoint(tx, name, globalPositionOf(last)));
  return messages.length;
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
