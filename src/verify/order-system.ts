import { adjacency } from '../machine/index.js';
import { ModelBoundError, ModelOptionsError } from './errors.js';
import { ENVIRONMENT, buildLocalTable, reply, type LocalTable } from './order-local-table.js';
import { describeAction, viewOf } from './order-system-view.js';
import { ACTOR_INDEX as A, FAULT_INDEX as F, FAULTS, INV, KIND, PAY, Q_REPLY, SHIP, type Actor, type Emit, type Fault, type OrderSystemOptions, type PackedLayout, type ResolvedOptions, type SystemView } from './order-system-layout.js';

export { FAULTS, ACTORS, FAIR_ACTOR_COUNT, FAIR_MASK, INV, PAY, SHIP, QUEUES, Q_REPLY, KIND } from './order-system-layout.js';
export type { Fault, Actor, OrderSystemOptions, ResolvedOptions, Emit, SystemView } from './order-system-layout.js';

/**
 * The order system as a packed state vector (all bytes):
 *   [avail] [one budget byte per enabled fault] then per order a block
 *   [local state, inv, pay, captures, ship, inventory queue, payment queue, shipping queue, reply queue]
 * Queues are FIFO arrays packed to the front (0 = empty slot). The same layout is
 * declared in the Promela export, so SPIN's state count equals ours.
 */
export class OrderSystem implements PackedLayout {
  readonly table: LocalTable;
  readonly options: ResolvedOptions;
  readonly width: number;
  readonly blockSize: number;
  readonly budgetOffset: Readonly<Partial<Record<Fault, number>>>;
  /** Budget byte offset by fault index (-1: fault off). */
  private readonly budgetAt: Int32Array;
  readonly firstBlock: number;
  readonly canceled: number[];
  /** ValidStateTransitions: the allowed state changes (default: the machine's own edges). */
  readonly allowedTransitions: Readonly<Record<string, readonly string[]>>;
  private readonly envInputs: { k: number; actor: number; budget?: Fault }[];
  private readonly timerInputs: number[];

  constructor(opts: OrderSystemOptions) {
    if (!Number.isInteger(opts.orders) || opts.orders < 1 || opts.orders > 16) throw new ModelOptionsError('orders', `must be an integer from 1 to 16, got ${String(opts.orders)}`);
    const stock = opts.stock ?? Math.max(1, opts.orders - 1);
    if (!Number.isInteger(stock) || stock < 0 || stock > 255) throw new ModelOptionsError('stock', `must be an integer from 0 to 255, got ${String(stock)}`);
    const quantity = opts.quantity ?? 1;
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 255) throw new ModelOptionsError('quantity', `must be an integer from 1 to 255, got ${String(quantity)}`);
    const faults = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
    for (const [f, n] of Object.entries(opts.faults ?? {})) {
      if (!(FAULTS as readonly string[]).includes(f)) throw new ModelOptionsError('faults', `unknown fault "${f}"; known: ${FAULTS.join(', ')}`);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new ModelOptionsError('faults', `budget of ${f} must be an integer from 0 to 100, got ${String(n)}`);
      faults[f as Fault] = n;
    }
    const capacity = opts.capacity ?? 2 + faults.dup + faults.crash + faults.timeout;
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 32) throw new ModelOptionsError('capacity', `must be an integer from 2 to 32, got ${String(capacity)}`);
    this.options = { orders: opts.orders, stock, quantity, faults, capacity, symmetry: opts.symmetry ?? false, nonIdempotentPayment: opts.nonIdempotentPayment ?? false };

    const table = buildLocalTable(opts.machine, { context: opts.context, ...(opts.allowedTransitions ? { allowedTransitions: opts.allowedTransitions } : {}) });
    if (table.snapshots.length > 255) throw new ModelBoundError('local states', 255, 'the order machine has more distinct snapshots than fit a byte');
    this.table = table;
    this.allowedTransitions = opts.allowedTransitions ?? Object.fromEntries([...adjacency(opts.machine)].map(([from, tos]) => [from, [...tos]]));
    const canceledName = opts.canceledState ?? 'CANCELED';
    if (!opts.machine.stateNames.includes(canceledName)) throw new ModelOptionsError('canceledState', `the machine has no state ${canceledName}`);
    this.canceled = table.names.map((n) => (n === canceledName ? 1 : 0));

    const budgetOffset: Partial<Record<Fault, number>> = {};
    let off = 1;
    for (const f of FAULTS) if (faults[f] > 0) budgetOffset[f] = off++;
    this.budgetOffset = budgetOffset;
    this.budgetAt = Int32Array.from(FAULTS.map((f) => budgetOffset[f] ?? -1));
    this.firstBlock = off;
    this.blockSize = 5 + 4 * capacity;
    // Padded to whole 32-bit words: the visited set hashes and compares words.
    this.width = Math.ceil((off + opts.orders * this.blockSize) / 4) * 4;

    const actorOf: Record<string, number> = { OrderCreated: A.orders, CancelRequested: A.customer, DeliveryConfirmed: A.carrier, CompensationRetried: A.operator };
    this.envInputs = ENVIRONMENT.map((name) => table.inputIndex('environment', name))
      .filter((k) => k >= 0)
      .map((k) => {
        const name = table.inputs[k]?.name ?? '';
        return { k, actor: actorOf[name] ?? A.orders, ...(name === 'CancelRequested' ? { budget: 'cancel' as const } : {}) };
      });
    this.timerInputs = table.inputs.flatMap((inp, k) => (inp.kind === 'timer' ? [k] : []));
  }

  base(order: number): number {
    return this.firstBlock + order * this.blockSize;
  }
  queueOffset(order: number, queue: number): number {
    return this.base(order) + 5 + queue * this.options.capacity;
  }

  initial(): Uint8Array {
    const s = new Uint8Array(this.width);
    s[0] = this.options.stock;
    for (const f of FAULTS) {
      const o = this.budgetOffset[f];
      if (o !== undefined) s[o] = this.options.faults[f];
    }
    // Every order starts in local state 0 (the machine's initial snapshot) with empty records and queues.
    return s;
  }

  /** Sorts the order blocks so states that differ only by which order is which coincide. */
  canonicalize(s: Uint8Array): void {
    const n = this.options.orders;
    const B = this.blockSize;
    const f = this.firstBlock;
    for (let i = 1; i < n; i++) {
      for (let j = i; j > 0; j--) {
        const a = f + (j - 1) * B;
        const b = a + B;
        let d = 0;
        for (let k = 0; k < B && d === 0; k++) d = (s[a + k] as number) - (s[b + k] as number);
        if (d <= 0) break;
        for (let k = 0; k < B; k++) {
          const t = s[a + k] as number;
          s[a + k] = s[b + k] as number;
          s[b + k] = t;
        }
      }
    }
  }

  private push(t: Uint8Array, q: number, code: number): void {
    const C = this.options.capacity;
    for (let k = 0; k < C; k++) {
      if (t[q + k] === 0) {
        t[q + k] = code;
        return;
      }
    }
    throw new ModelBoundError('queue capacity', C, 'raise --capacity');
  }

  private pop(t: Uint8Array, q: number): void {
    const C = this.options.capacity;
    for (let k = 0; k < C - 1; k++) t[q + k] = t[q + k + 1] ?? 0;
    t[q + C - 1] = 0;
  }

  /** Nothing in flight to or from this order. */
  quiet(s: Uint8Array, order: number): boolean {
    const C = this.options.capacity;
    for (let q = 0; q < 4; q++) if (s[this.queueOffset(order, 0) + q * C] !== 0) return false;
    return true;
  }

  private qlen(s: Uint8Array, q: number): number {
    let n = 0;
    while (n < this.options.capacity && s[q + n] !== 0) n++;
    return n;
  }

  private applyEntry(t: Uint8Array, order: number, entry: number): void {
    const b = this.base(order);
    t[b] = this.table.next[entry] ?? 0;
    for (const c of this.table.sends[entry] ?? []) this.push(t, this.queueOffset(order, c.service), c.code);
  }

  /** The inventory service's handler for the head of an order's inventory queue. */
  private inventory(t: Uint8Array, order: number, head: number): void {
    const b = this.base(order);
    const rq = this.queueOffset(order, Q_REPLY);
    const inv = t[b + 1] ?? 0;
    const qty = this.options.quantity;
    if (head === 1) {
      if (inv === INV.none) {
        if ((t[0] ?? 0) >= qty) {
          t[0] = (t[0] ?? 0) - qty;
          t[b + 1] = INV.reserved;
          this.push(t, rq, reply('InventoryReserved'));
        } else {
          t[b + 1] = INV.refused;
          this.push(t, rq, reply('InventoryInsufficient'));
        }
      } else if (inv === INV.reserved || inv === INV.shipped) this.push(t, rq, reply('InventoryReserved'));
      else this.push(t, rq, reply('InventoryInsufficient'));
    } else {
      if (inv === INV.reserved) {
        t[0] = (t[0] ?? 0) + qty;
        t[b + 1] = INV.released;
        this.push(t, rq, reply('ReservationReleased'));
      } else if (inv === INV.none) {
        t[b + 1] = INV.released; // tombstone: a late ReserveInventory must not reserve
        this.push(t, rq, reply('ReservationReleased'));
      } else if (inv === INV.shipped) this.push(t, rq, reply('ReleaseFailed'));
      else this.push(t, rq, reply('ReservationReleased'));
    }
  }

  private payment(t: Uint8Array, order: number, head: number): void {
    const b = this.base(order);
    const rq = this.queueOffset(order, Q_REPLY);
    const pay = t[b + 2] ?? 0;
    if (head === 1) {
      if (pay === PAY.none) {
        t[b + 2] = PAY.captured;
        t[b + 3] = Math.min(3, (t[b + 3] ?? 0) + 1);
        this.push(t, rq, reply('PaymentApproved'));
      } else if (pay === PAY.captured) {
        if (this.options.nonIdempotentPayment) t[b + 3] = Math.min(3, (t[b + 3] ?? 0) + 1);
        this.push(t, rq, reply('PaymentApproved'));
      } else this.push(t, rq, reply('PaymentRefused'));
    } else {
      if (pay === PAY.captured || pay === PAY.none) t[b + 2] = PAY.refunded; // none: tombstone, a late ProcessPayment is refused
      this.push(t, rq, reply('PaymentRefunded'));
    }
  }

  private shipping(t: Uint8Array, order: number): void {
    const b = this.base(order);
    const rq = this.queueOffset(order, Q_REPLY);
    const ship = t[b + 4] ?? 0;
    if (ship === SHIP.none) {
      if (t[b + 1] === INV.reserved) {
        t[b + 1] = INV.shipped;
        t[b + 4] = SHIP.shipped;
        this.push(t, rq, reply('PackageShipped'));
      } else {
        t[b + 4] = SHIP.failed; // nothing reserved to ship
        this.push(t, rq, reply('ShipmentFailed'));
      }
    } else this.push(t, rq, reply(ship === SHIP.shipped ? 'PackageShipped' : 'ShipmentFailed'));
  }

  private spend(t: Uint8Array, f: number): void {
    const o = this.budgetAt[f] as number;
    t[o] = (t[o] as number) - 1;
  }
  private has(s: Uint8Array, f: number): boolean {
    const o = this.budgetAt[f] as number;
    return o >= 0 && (s[o] as number) > 0;
  }

  /** Calls `emit` once per enabled action with the successor in `t` (reused: copy it if you keep it). */
  successors(s: Uint8Array, t: Uint8Array, emit: Emit): void {
    const tab = this.table;
    const I = tab.inputs.length;
    const C = this.options.capacity;
    for (let i = 0; i < this.options.orders; i++) {
      const b = this.base(i);
      const l = s[b] ?? 0;
      const oc = i << 8;
      for (const env of this.envInputs) {
        const e = l * I + env.k;
        if ((tab.next[e] ?? -1) < 0 || !tab.changed[e]) continue;
        if (env.budget && !this.has(s, F[env.budget])) continue;
        t.set(s);
        if (env.budget) this.spend(t, F[env.budget]);
        this.applyEntry(t, i, e);
        emit(t, env.actor, (KIND.environment << 16) | oc | env.k, tab.invalid[e] === 1);
      }
      // A deadline surely passes while nothing is in flight for the order; the `timeout`
      // fault lets it pass early too, racing the messages still on their way.
      const quiet = this.quiet(s, i);
      if (quiet || this.has(s, F.timeout)) {
        for (const k of this.timerInputs) {
          const e = l * I + k;
          if ((tab.next[e] ?? -1) < 0 || !tab.changed[e]) continue;
          t.set(s);
          if (!quiet) this.spend(t, F.timeout);
          this.applyEntry(t, i, e);
          emit(t, A.timer, (KIND.timer << 16) | oc | k, tab.invalid[e] === 1);
        }
      }
      const rq = this.queueOffset(i, Q_REPLY);
      const rh = s[rq] ?? 0;
      if (rh !== 0) {
        const e = l * I + (rh - 1);
        t.set(s);
        this.pop(t, rq);
        // A reply the state neither accepts nor ignores is dead-lettered: consumed, the order unchanged.
        if ((tab.next[e] ?? -1) >= 0) this.applyEntry(t, i, e);
        emit(t, A.orders, (KIND.deliver << 16) | oc | 0, (tab.next[e] ?? -1) >= 0 && tab.invalid[e] === 1);
      }
      const iq = this.queueOffset(i, 0);
      const ih = s[iq] ?? 0;
      if (ih !== 0) {
        t.set(s);
        this.pop(t, iq);
        this.inventory(t, i, ih);
        emit(t, A.inventory, (KIND.inventory << 16) | oc | 0, false);
        if (this.has(s, F.crash)) {
          t.set(s);
          this.spend(t, F.crash);
          this.inventory(t, i, ih);
          emit(t, A.crash, (KIND.inventoryCrash << 16) | oc | 0, false);
        }
      }
      const pq = this.queueOffset(i, 1);
      const ph = s[pq] ?? 0;
      if (ph !== 0) {
        t.set(s);
        this.pop(t, pq);
        this.payment(t, i, ph);
        emit(t, A.payment, (KIND.payment << 16) | oc | 0, false);
        if (this.has(s, F.crash)) {
          t.set(s);
          this.spend(t, F.crash);
          this.payment(t, i, ph);
          emit(t, A.crash, (KIND.paymentCrash << 16) | oc | 0, false);
        }
        if (ph === 1 && s[b + 2] === PAY.none) {
          if (this.has(s, F.decline)) {
            t.set(s);
            this.spend(t, F.decline);
            this.pop(t, pq);
            t[b + 2] = PAY.declined;
            this.push(t, rq, reply('PaymentRefused'));
            emit(t, A.payment, (KIND.paymentDecline << 16) | oc | 0, false);
          }
          if (this.has(s, F.provider)) {
            // The provider captures but its answer never comes back: only the order's timer can move on.
            t.set(s);
            this.spend(t, F.provider);
            this.pop(t, pq);
            t[b + 2] = PAY.captured;
            t[b + 3] = Math.min(3, (t[b + 3] ?? 0) + 1);
            emit(t, A.payment, (KIND.paymentSilent << 16) | oc | 0, false);
          }
        }
      }
      const sq = this.queueOffset(i, 2);
      const sh = s[sq] ?? 0;
      if (sh !== 0) {
        t.set(s);
        this.pop(t, sq);
        this.shipping(t, i);
        emit(t, A.shipping, (KIND.shipping << 16) | oc | 0, false);
        if (this.has(s, F.crash)) {
          t.set(s);
          this.spend(t, F.crash);
          this.shipping(t, i);
          emit(t, A.crash, (KIND.shippingCrash << 16) | oc | 0, false);
        }
        if (s[b + 4] === SHIP.none && this.has(s, F.shipfail)) {
          t.set(s);
          this.spend(t, F.shipfail);
          this.pop(t, sq);
          t[b + 4] = SHIP.failed;
          this.push(t, rq, reply('ShipmentFailed'));
          emit(t, A.shipping, (KIND.shippingFail << 16) | oc | 0, false);
        }
      }
      for (let q = 0; q < 4; q++) {
        const qo = this.queueOffset(i, q);
        const len = this.qlen(s, qo);
        if (len === 0) continue;
        if (len < C && this.has(s, F.dup)) {
          t.set(s);
          this.spend(t, F.dup);
          for (let k = len; k > 1; k--) t[qo + k] = t[qo + k - 1] ?? 0;
          t[qo + 1] = t[qo] ?? 0;
          emit(t, A.network, (KIND.dup << 16) | oc | q, false);
        }
        if (len >= 2 && this.has(s, F.reorder)) {
          t.set(s);
          this.spend(t, F.reorder);
          t[qo] = s[qo + 1] ?? 0;
          t[qo + 1] = s[qo] ?? 0;
          emit(t, A.network, (KIND.reorder << 16) | oc | q, false);
        }
        if (this.has(s, F.loss)) {
          // Lost in transit; the sender's outbox sends it again, behind what it sent since.
          t.set(s);
          this.spend(t, F.loss);
          for (let k = 0; k < len - 1; k++) t[qo + k] = s[qo + k + 1] ?? 0;
          t[qo + len - 1] = s[qo] ?? 0;
          emit(t, A.network, (KIND.loss << 16) | oc | q, false);
        }
      }
    }
  }
  /** Human-readable name of an action taken from state `s`. */
  describe(s: Uint8Array, action: number): { actor: Actor; action: string; order: number; message?: string } {
    return describeAction(this, s, action);
  }

  /** The readable view of a packed state, for traces. */
  view(s: Uint8Array): SystemView {
    return viewOf(this, s);
  }
}
