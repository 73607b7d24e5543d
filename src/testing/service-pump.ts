import { globalPositionOf, loadCheckpoint, readAll, saveCheckpoint, type Db } from '../store/index.js';
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

/** Pumps until the log has nothing new. */
export async function pumpServicesUntilIdle(o: ServicePumpOptions): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await pumpServicesOnce(o);
    if (n === 0) return total;
    total += n;
  }
}
