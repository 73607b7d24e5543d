import { recordInboxStatement, type Statement, type QueryResult } from '../store/index.js';
import type { StagedTx } from './staged-writes.js';

/** Thrown into a handler that reads or writes after its message turned out to be a duplicate. */
export class DuplicateMessage extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} was handled already`);
    this.name = 'DuplicateMessage';
  }
}

export interface OnceTx {
  /** The handler's transaction: its writes wait until the inbox has said the message is new. */
  readonly tx: StagedTx;
  /** Whether the message is new (the inbox insert is sent first if it has not gone yet); a new message's held writes are queued. */
  fresh(): Promise<boolean>;
  /** Whether the inbox has said the message was handled before. */
  duplicate(): boolean;
}

type OnResult = ((result: QueryResult<Record<string, unknown>>) => void) | undefined;

/**
 * A message's handler inside a batch transaction (`tx` stages writes) with its inbox record,
 * without a round trip of its own: the inbox insert is staged, so it goes with the handler's
 * first read. Until its answer is known, the handler's writes are held back (a duplicate's
 * must never reach the server); once the message is known to be a duplicate, the handler's
 * next statement throws DuplicateMessage. A handler that writes before it reads costs one
 * round trip more: the inbox insert alone.
 */
export function onceTx(tx: StagedTx, consumer: string, messageId: string): OnceTx {
  const inbox = recordInboxStatement(consumer, [messageId]);
  if (!inbox) throw new Error('unreachable: one message id');
  let known: boolean | undefined;
  tx.stage(inbox.statement, (r) => (known = inbox.read(r).has(messageId)));
  let held: { statement: Statement; onResult: OnResult }[] = [];

  /** Sends the inbox insert when its answer is still unknown; queues the held writes of a new message. */
  async function settle(): Promise<void> {
    if (known === undefined) await tx.flush();
    if (known === false) throw new DuplicateMessage(messageId);
    for (const h of held) tx.stage(h.statement, h.onResult);
    held = [];
  }
  const before = async (): Promise<void> => {
    if (held.length > 0 || known === false) await settle();
  };
  const after = <T>(value: T): T => {
    if (known === false) throw new DuplicateMessage(messageId);
    return value;
  };

  const view: StagedTx = {
    async query(sql, params) {
      await before();
      return after(await tx.query(sql, params));
    },
    async exec(sql) {
      await before();
      after(await tx.exec?.(sql));
    },
    async batch(statements, options) {
      await before();
      return after(await tx.batch(statements, options));
    },
    stage(statement, onResult) {
      if (known === false) throw new DuplicateMessage(messageId);
      if (known === undefined) held.push({ statement, onResult });
      else tx.stage(statement, onResult);
    },
    async flush(options) {
      await settle();
      await tx.flush(options);
    },
    get pending() {
      return tx.pending + held.length;
    },
  };

  return {
    tx: view,
    async fresh() {
      try {
        await settle();
        return true;
      } catch (err) {
        if (err instanceof DuplicateMessage) return false;
        throw err;
      }
    },
    duplicate: () => known === false,
  };
}
