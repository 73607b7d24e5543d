import type { JsMsg } from '@nats-io/jetstream';
import type { Message } from './message.js';
import { errorReason } from './names.js';
import type { DeadLetter, Delivery } from './transport.js';

/** One delivery held by a partition worker until it is acked, dead-lettered or given back. */
export interface Entry {
  msg: JsMsg;
  readonly seq: number;
  readonly message: Message;
  retries: number;
  /** Set once the message is to be dead-lettered (only writing the dead letter is retried). */
  dead?: DeadLetter;
}

/** What a chain needs from its partition worker. */
export interface ChainHost {
  readonly group: string;
  readonly maxDeliver: number;
  readonly redeliveryDelayMs: number;
  readonly handler: (delivery: Delivery) => Promise<void>;
  stopping(): boolean;
  leaseFresh(): boolean;
  /** The handler is about to run on the entry (for a trace). */
  started?(e: Entry): void;
  /** The handler resolved: ack (soon). */
  ack(e: Entry): void;
  /** Writes the dead letter and terminates the delivery; false: could not, try again after a pause. */
  bury(e: Entry, dead: DeadLetter): Promise<boolean>;
  /** The entry is settled (acked or dead-lettered). */
  settled(e: Entry): void;
  /** The chain stopped: its queue is empty, or the worker is stopping. */
  ended(chain: KeyChain): void;
  error(err: unknown): void;
}

/**
 * Runs one key's messages one after another, in stream order; a handler that throws is
 * retried in place so a later message of the key cannot overtake it. Callback-driven and a
 * class rather than an async loop over closures: this is the per-message hot path, where
 * each await costs a promise and a hop, and each closure an allocation.
 */
export class KeyChain {
  private attempt = 0;

  constructor(
    readonly key: string,
    readonly queue: Entry[],
    private readonly host: ChainHost,
  ) {}

  next(): void {
    const h = this.host;
    const e = this.queue[0];
    if (e === undefined || h.stopping()) return h.ended(this);
    if (!h.leaseFresh()) {
      setTimeout(() => this.next(), 100).unref();
      return;
    }
    const deliveries = e.msg.info.deliveryCount;
    this.attempt = deliveries + e.retries;
    if (e.dead) return this.bury(e, e.dead);
    if (e.retries === 0 && deliveries > h.maxDeliver) {
      const reason = `not acked after ${h.maxDeliver} deliveries (the consumer crashed or overran ack_wait)`;
      return this.bury(e, { message: e.message, group: h.group, attempts: this.attempt - 1, reason });
    }
    h.started?.(e);
    let running: Promise<void>;
    try {
      running = h.handler({ message: e.message, attempt: this.attempt });
    } catch (err) {
      running = Promise.reject(err instanceof Error ? err : new Error(errorReason(err)));
    }
    running.then(
      () => this.handled(),
      (err: unknown) => this.failed(err),
    );
  }

  private handled(): void {
    try {
      this.host.ack(this.queue[0] as Entry);
      this.settle(true);
    } catch (err) {
      this.broken(err);
    }
  }

  private failed(err: unknown): void {
    try {
      const e = this.queue[0] as Entry;
      if (this.attempt < this.host.maxDeliver) {
        e.retries += 1;
        this.settle(false);
      } else this.bury(e, { message: e.message, group: this.host.group, attempts: this.attempt, reason: errorReason(err) });
    } catch (err2) {
      this.broken(err2);
    }
  }

  private bury(e: Entry, dead: DeadLetter): void {
    this.host.bury(e, dead).then(
      (ok) => this.settle(ok),
      (err: unknown) => this.broken(err),
    );
  }

  private settle(ok: boolean): void {
    if (!ok) {
      setTimeout(() => this.next(), this.host.redeliveryDelayMs).unref();
      return;
    }
    this.host.settled(this.queue.shift() as Entry);
    this.next();
  }

  /** Unexpected: logged, and the key is tried again after a pause rather than left stuck. */
  private broken(err: unknown): void {
    this.host.error(err);
    setTimeout(() => this.next(), this.host.redeliveryDelayMs).unref();
  }
}
