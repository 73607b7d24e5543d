import { runStatements, type Queryable } from '../store/index.js';
import { STEP_FAILED, type IncomingMessage } from '../runtime/index.js';
import { randomFor } from './seeded-random.js';
import { ledgerKey, ledgerStatement, SimulatedBooks } from './simulated-books.js';

/** Chances (0..1) of each kind of trouble, rolled once per command message (seeded). */
export interface ServiceFaults {
  /** The command is lost: nothing done, no reply (the engine's reply timeout resends it). */
  readonly drop?: number;
  /** Nothing done; replies StepFailed { retryable: true }. */
  readonly transient?: number;
  /** Done, but the reply is lost (the ambiguous case: a resend must not do it twice). */
  readonly lostReply?: number;
  /** A business refusal: InventoryInsufficient, PaymentRefused, ShipmentFailed. */
  readonly refuse?: number;
  /** Compensations only: replies StepFailed { retryable: false } (ends in COMPENSATION_FAILED). */
  readonly permanent?: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly inventory?: ServiceFaults;
  readonly payment?: ServiceFaults;
  readonly shipping?: ServiceFaults;
  /** Faults of compensations (ReleaseInventory, RefundPayment). */
  readonly compensation?: ServiceFaults;
  /** Overrides the random fate for chosen commands (scripted scenarios); `undefined` = roll. */
  readonly script?: (cmd: SimCommand) => Fate | undefined;
}

/** A command as the services receive it (a log message with `metadata.kind = 'command'`). */
export interface SimCommand {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

export type Fate = 'ok' | 'drop' | 'transient' | 'lostReply' | 'refuse' | 'permanent';

export function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function fateOf(seed: number, messageId: string, f: ServiceFaults | undefined, kinds: readonly (keyof ServiceFaults)[]): Fate {
  let r = randomFor(seed, messageId);
  for (const k of kinds) {
    const p = f?.[k] ?? 0;
    if (r < p) return k;
    r -= p;
  }
  return 'ok';
}

/** The service whose ledger a command type reads and writes (undefined: a type the services do not know). */
export function serviceOf(type: string): string | undefined {
  switch (type) {
    case 'ReserveInventory':
    case 'ReleaseInventory':
      return 'inventory';
    case 'ProcessPayment':
    case 'RefundPayment':
      return 'payment';
    case 'PrepareShipment':
      return 'shipping';
    default:
      return undefined;
  }
}

export interface Handled {
  readonly fate: Fate;
  readonly replies: IncomingMessage[];
}

/**
 * Inventory, payment and shipping as small idempotent services over one database, with
 * faults chosen by a seeded random per command message. `handle` runs in the caller's
 * transaction and returns the replies to deliver to the engine; reply ids are business
 * keys (a resent command's answer has the same id, so the engine's inbox drops repeats),
 * except StepFailed, which is per attempt.
 *
 * `handleAll` does the same for many commands in a constant number of round trips: one
 * read of the ledger rows they touch (`ledgerStatement`), the decisions in memory in the
 * order given (`decide` against `SimulatedBooks`), and the writes set-based. Its
 * results equal handling the commands one by one in that order.
 */
export class SimulatedServices {
  constructor(readonly options: SimulationOptions) {}

  /** The ledger pairs the commands touch (each once): what to load before `decide`. */
  static ledgerPairs(cmds: readonly SimCommand[]): [string, string][] {
    const seen = new Set<string>();
    const pairs: [string, string][] = [];
    for (const cmd of cmds) {
      const service = serviceOf(cmd.type);
      const orderId = text(cmd.metadata['key']);
      if (service === undefined || seen.has(ledgerKey(service, orderId))) continue;
      seen.add(ledgerKey(service, orderId));
      pairs.push([service, orderId]);
    }
    return pairs;
  }

  async handle(tx: Queryable, cmd: SimCommand): Promise<Handled> {
    const [r] = await this.handleAll(tx, [cmd]);
    return r ?? { fate: 'drop', replies: [] };
  }

  /** Handles the commands in order in the caller's transaction: one read, then one batch of writes. */
  async handleAll(tx: Queryable, cmds: readonly SimCommand[]): Promise<Handled[]> {
    const pairs = SimulatedServices.ledgerPairs(cmds);
    const load = ledgerStatement(pairs);
    const rows = pairs.length > 0 ? (await tx.query(load.sql, load.params)).rows : [];
    const books = new SimulatedBooks(pairs, rows);
    const results = cmds.map((cmd) => this.decide(books, cmd));
    const statements = books.statements();
    if (statements.length > 0) await runStatements(tx, statements);
    return results;
  }

  /** One command's fate and replies, against the books as the commands before it left them (effects recorded in `books`). */
  decide(books: SimulatedBooks, cmd: SimCommand): Handled {
    const orderId = text(cmd.metadata['key']);
    const data = (cmd.data ?? {}) as Record<string, unknown>;
    const step = text(cmd.metadata['step']);
    const compensation = cmd.metadata['compensation'] === true;
    const seed = this.options.seed;
    const reply = (service: string, type: string, payload: object): IncomingMessage => ({ id: `${service}:${orderId}:${type}`, key: orderId, type, payload });
    const failed = (retryable: boolean, reason: string): IncomingMessage => ({
      id: `${cmd.id}:failed`,
      key: orderId,
      type: STEP_FAILED,
      payload: { step, compensation, attempt: Number(cmd.metadata['attempt'] ?? 1), retryable, reason },
    });
    const ledger = (service: string): string | undefined => books.outcome(service, orderId);
    const decide = (service: string, outcome: string) => books.setOutcome(service, orderId, outcome);
    const quantity = Array.isArray(data['items']) ? (data['items'] as { quantity?: number }[]).reduce((n, i) => n + (i.quantity ?? 0), 0) : 0;
    const amount = typeof data['amount'] === 'number' ? data['amount'] : 0;

    const scripted = this.options.script?.(cmd);
    const action = (f: ServiceFaults | undefined) => scripted ?? fateOf(seed, cmd.id, f, ['drop', 'transient', 'lostReply', 'refuse']);
    const undo = (f: ServiceFaults | undefined) => scripted ?? fateOf(seed, cmd.id, f, ['drop', 'transient', 'lostReply', 'permanent']);
    const early = (fate: Fate): Handled | undefined =>
      fate === 'drop' ? { fate, replies: [] } : fate === 'transient' ? { fate, replies: [failed(true, 'simulated transient failure')] } : fate === 'permanent' ? { fate, replies: [failed(false, 'simulated permanent failure')] } : undefined;
    const out = (fate: Fate, replies: IncomingMessage[]): Handled => ({ fate, replies: fate === 'lostReply' ? [] : replies });

    switch (cmd.type) {
      case 'ReserveInventory': {
        const known = ledger('inventory');
        if (known === 'reserved') return out('ok', [reply('inventory', 'InventoryReserved', { reservationId: `res-${orderId}` })]);
        if (known) return out('ok', [reply('inventory', 'InventoryInsufficient', { reason: known })]);
        const fate = action(this.options.inventory);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          decide('inventory', 'insufficient stock');
          return out(fate, [reply('inventory', 'InventoryInsufficient', { reason: 'insufficient stock' })]);
        }
        decide('inventory', 'reserved');
        books.reserve(orderId, `res-${orderId}`, quantity);
        return out(fate, [reply('inventory', 'InventoryReserved', { reservationId: `res-${orderId}` })]);
      }
      case 'ReleaseInventory': {
        const fate = undo(this.options.compensation);
        const e = early(fate);
        if (e) return e;
        const known = ledger('inventory');
        if (known === 'reserved') {
          decide('inventory', 'released');
          books.release(orderId);
        } else if (!known) {
          // Released before it was reserved (the reserve was lost or is late): refuse it when it comes.
          decide('inventory', 'released before reserved');
        }
        return out(fate, [reply('inventory', 'ReservationReleased', {})]);
      }
      case 'ProcessPayment': {
        const known = ledger('payment');
        if (known === 'charged' || known === 'refunded') return out('ok', [reply('payment', 'PaymentApproved', { paymentId: `pay-${orderId}` })]);
        if (known) return out('ok', [reply('payment', 'PaymentRefused', { reason: known })]);
        const fate = action(this.options.payment);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          decide('payment', 'card declined');
          return out(fate, [reply('payment', 'PaymentRefused', { reason: 'card declined' })]);
        }
        decide('payment', 'charged');
        books.charge(orderId, `pay-${orderId}`, amount);
        return out(fate, [reply('payment', 'PaymentApproved', { paymentId: `pay-${orderId}` })]);
      }
      case 'RefundPayment': {
        const fate = undo(this.options.compensation);
        const e = early(fate);
        if (e) return e;
        const known = ledger('payment');
        if (known === 'charged') {
          decide('payment', 'refunded');
          books.refund(orderId);
        } else if (!known) {
          decide('payment', 'refunded before charged');
        }
        return out(fate, [reply('payment', 'PaymentRefunded', {})]);
      }
      case 'PrepareShipment': {
        const known = ledger('shipping');
        const shipped = [reply('shipping', 'PackageShipped', { trackingNumber: `trk-${orderId}` }), reply('carrier', 'DeliveryConfirmed', {})];
        if (known === 'shipped') return out('ok', shipped);
        if (known) return out('ok', [reply('shipping', 'ShipmentFailed', { reason: known })]);
        // No lost replies here: a shipment whose answer never comes is refunded by the
        // order machine although the parcel left — a real ambiguity the machine leaves open.
        const fate = scripted ?? fateOf(seed, cmd.id, this.options.shipping, ['drop', 'transient', 'refuse']);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          decide('shipping', 'cannot ship');
          return out(fate, [reply('shipping', 'ShipmentFailed', { reason: 'cannot ship' })]);
        }
        decide('shipping', 'shipped');
        books.ship(orderId, `trk-${orderId}`);
        return out(fate, shipped);
      }
      default:
        return { fate: 'drop', replies: [] };
    }
  }
}
