import type { Queryable } from '../store/index.js';
import { STEP_FAILED, type IncomingMessage } from '../runtime/index.js';
import { randomFor } from './seeded-random.js';

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

/**
 * Inventory, payment and shipping as small idempotent services over one database, with
 * faults chosen by a seeded random per command message. `handle` runs in the caller's
 * transaction and returns the replies to deliver to the engine; reply ids are business
 * keys (a resent command's answer has the same id, so the engine's inbox drops repeats),
 * except StepFailed, which is per attempt.
 */
export class SimulatedServices {
  constructor(readonly options: SimulationOptions) {}

  async handle(tx: Queryable, cmd: SimCommand): Promise<{ fate: Fate; replies: IncomingMessage[] }> {
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
    const ledger = async (service: string): Promise<string | undefined> =>
      (await tx.query<{ outcome: string }>('SELECT outcome FROM sim_ledger WHERE service = $1 AND order_id = $2', [service, orderId])).rows[0]?.outcome;
    const decide = (service: string, outcome: string) => tx.query('INSERT INTO sim_ledger (service, order_id, outcome) VALUES ($1, $2, $3)', [service, orderId, outcome]);
    const quantity = Array.isArray(data['items']) ? (data['items'] as { quantity?: number }[]).reduce((n, i) => n + (i.quantity ?? 0), 0) : 0;
    const amount = typeof data['amount'] === 'number' ? data['amount'] : 0;

    const scripted = this.options.script?.(cmd);
    const action = (f: ServiceFaults | undefined) => scripted ?? fateOf(seed, cmd.id, f, ['drop', 'transient', 'lostReply', 'refuse']);
    const undo = (f: ServiceFaults | undefined) => scripted ?? fateOf(seed, cmd.id, f, ['drop', 'transient', 'lostReply', 'permanent']);
    const early = (fate: Fate) =>
      fate === 'drop' ? { fate, replies: [] } : fate === 'transient' ? { fate, replies: [failed(true, 'simulated transient failure')] } : fate === 'permanent' ? { fate, replies: [failed(false, 'simulated permanent failure')] } : undefined;
    const out = (fate: Fate, replies: IncomingMessage[]) => ({ fate, replies: fate === 'lostReply' ? [] : replies });

    switch (cmd.type) {
      case 'ReserveInventory': {
        const known = await ledger('inventory');
        if (known === 'reserved') return out('ok', [reply('inventory', 'InventoryReserved', { reservationId: `res-${orderId}` })]);
        if (known) return out('ok', [reply('inventory', 'InventoryInsufficient', { reason: known })]);
        const fate = action(this.options.inventory);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          await decide('inventory', 'insufficient stock');
          return out(fate, [reply('inventory', 'InventoryInsufficient', { reason: 'insufficient stock' })]);
        }
        await decide('inventory', 'reserved');
        await tx.query('INSERT INTO sim_reservations (order_id, reservation_id, quantity) VALUES ($1, $2, $3)', [orderId, `res-${orderId}`, quantity]);
        return out(fate, [reply('inventory', 'InventoryReserved', { reservationId: `res-${orderId}` })]);
      }
      case 'ReleaseInventory': {
        const fate = undo(this.options.compensation);
        const e = early(fate);
        if (e) return e;
        const known = await ledger('inventory');
        if (known === 'reserved') {
          await tx.query(`UPDATE sim_ledger SET outcome = 'released' WHERE service = 'inventory' AND order_id = $1`, [orderId]);
          const r = await tx.query<{ quantity: number }>('SELECT quantity FROM sim_reservations WHERE order_id = $1', [orderId]);
          await tx.query('INSERT INTO sim_releases (order_id, quantity) VALUES ($1, $2)', [orderId, r.rows[0]?.quantity ?? 0]);
        } else if (!known) {
          // Released before it was reserved (the reserve was lost or is late): refuse it when it comes.
          await decide('inventory', 'released before reserved');
        }
        return out(fate, [reply('inventory', 'ReservationReleased', {})]);
      }
      case 'ProcessPayment': {
        const known = await ledger('payment');
        if (known === 'charged' || known === 'refunded') return out('ok', [reply('payment', 'PaymentApproved', { paymentId: `pay-${orderId}` })]);
        if (known) return out('ok', [reply('payment', 'PaymentRefused', { reason: known })]);
        const fate = action(this.options.payment);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          await decide('payment', 'card declined');
          return out(fate, [reply('payment', 'PaymentRefused', { reason: 'card declined' })]);
        }
        await decide('payment', 'charged');
        await tx.query('INSERT INTO sim_charges (order_id, payment_id, amount) VALUES ($1, $2, $3)', [orderId, `pay-${orderId}`, amount]);
        return out(fate, [reply('payment', 'PaymentApproved', { paymentId: `pay-${orderId}` })]);
      }
      case 'RefundPayment': {
        const fate = undo(this.options.compensation);
        const e = early(fate);
        if (e) return e;
        const known = await ledger('payment');
        if (known === 'charged') {
          await tx.query(`UPDATE sim_ledger SET outcome = 'refunded' WHERE service = 'payment' AND order_id = $1`, [orderId]);
          const r = await tx.query<{ amount: number }>('SELECT amount FROM sim_charges WHERE order_id = $1', [orderId]);
          await tx.query('INSERT INTO sim_refunds (order_id, amount) VALUES ($1, $2)', [orderId, r.rows[0]?.amount ?? 0]);
        } else if (!known) {
          await decide('payment', 'refunded before charged');
        }
        return out(fate, [reply('payment', 'PaymentRefunded', {})]);
      }
      case 'PrepareShipment': {
        const known = await ledger('shipping');
        const shipped = [reply('shipping', 'PackageShipped', { trackingNumber: `trk-${orderId}` }), reply('carrier', 'DeliveryConfirmed', {})];
        if (known === 'shipped') return out('ok', shipped);
        if (known) return out('ok', [reply('shipping', 'ShipmentFailed', { reason: known })]);
        // No lost replies here: a shipment whose answer never comes is refunded by the
        // order machine although the parcel left — a real ambiguity the machine leaves open.
        const fate = scripted ?? fateOf(seed, cmd.id, this.options.shipping, ['drop', 'transient', 'refuse']);
        const e = early(fate);
        if (e) return e;
        if (fate === 'refuse') {
          await decide('shipping', 'cannot ship');
          return out(fate, [reply('shipping', 'ShipmentFailed', { reason: 'cannot ship' })]);
        }
        await decide('shipping', 'shipped');
        await tx.query('INSERT INTO sim_shipments (order_id, tracking_number) VALUES ($1, $2)', [orderId, `trk-${orderId}`]);
        return out(fate, shipped);
      }
      default:
        return { fate: 'drop', replies: [] };
    }
  }
}
