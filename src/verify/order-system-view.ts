import { REPLIES, SERVICES } from './order-local-table.js';
import { INV, KIND, PAY, QUEUES, Q_REPLY, SHIP, type Actor, type PackedLayout, type SystemView } from './order-system-layout.js';

/** Human-readable name of an action taken from state `s`. */
export function describeAction(sys: PackedLayout, s: Uint8Array, action: number): { actor: Actor; action: string; order: number; message?: string } {
  const kind = action >>> 16;
  const i = (action >>> 8) & 0xff;
  const param = action & 0xff;
  const tab = sys.table;
  const headOf = (q: number) => s[sys.queueOffset(i, q)] ?? 0;
  const cmd = (q: number) => {
    const names = q === 0 ? ['ReserveInventory', 'ReleaseInventory'] : q === 1 ? ['ProcessPayment', 'RefundPayment'] : ['PrepareShipment'];
    return names[headOf(q) - 1] ?? '?';
  };
  const msgIn = (q: number) => (q === Q_REPLY ? (REPLIES[headOf(q) - 1] ?? '?') : cmd(q));
  const order = i + 1;
  switch (kind) {
    case KIND.environment: {
      const name = tab.inputs[param]?.name ?? '?';
      const actor: Actor = name === 'CancelRequested' ? 'customer' : name === 'DeliveryConfirmed' ? 'carrier' : name === 'CompensationRetried' ? 'operator' : 'orders';
      return { actor, action: `send ${name}`, order, message: name };
    }
    case KIND.timer:
      return { actor: 'timer', action: `fire ${tab.inputs[param]?.name ?? '?'}`, order, message: 'ordo.timer' };
    case KIND.deliver:
      return { actor: 'orders', action: `handle ${msgIn(Q_REPLY)}`, order, message: msgIn(Q_REPLY) };
    case KIND.inventory:
    case KIND.payment:
    case KIND.shipping: {
      const q = kind === KIND.inventory ? 0 : kind === KIND.payment ? 1 : 2;
      return { actor: SERVICES[q], action: `handle ${cmd(q)}`, order, message: cmd(q) };
    }
    case KIND.inventoryCrash:
    case KIND.paymentCrash:
    case KIND.shippingCrash: {
      const q = kind === KIND.inventoryCrash ? 0 : kind === KIND.paymentCrash ? 1 : 2;
      return { actor: 'crash', action: `${SERVICES[q] ?? '?'} handles ${cmd(q)}, crashes before ack (redelivered)`, order, message: cmd(q) };
    }
    case KIND.paymentDecline:
      return { actor: 'payment', action: 'decline ProcessPayment', order, message: 'ProcessPayment' };
    case KIND.paymentSilent:
      return { actor: 'payment', action: 'capture ProcessPayment, provider never answers', order, message: 'ProcessPayment' };
    case KIND.shippingFail:
      return { actor: 'shipping', action: 'fail PrepareShipment', order, message: 'PrepareShipment' };
    case KIND.dup:
      return { actor: 'network', action: `duplicate ${msgIn(param)} on ${QUEUES[param] ?? '?'} queue`, order, message: msgIn(param) };
    case KIND.reorder:
      return { actor: 'network', action: `reorder ${QUEUES[param] ?? '?'} queue (${msgIn(param)} overtaken)`, order, message: msgIn(param) };
    case KIND.loss:
      return { actor: 'network', action: `lose ${msgIn(param)} on ${QUEUES[param] ?? '?'} queue, resent later`, order, message: msgIn(param) };
    default:
      return { actor: 'orders', action: `unknown action ${action}`, order };
  }
}

/** The readable view of a packed state, for traces. */
export function viewOf(sys: PackedLayout, s: Uint8Array): SystemView {
  const names = (codes: readonly string[], q: number, i: number) => {
    const out: string[] = [];
    const qo = sys.queueOffset(i, q);
    for (let k = 0; k < sys.options.capacity && s[qo + k] !== 0; k++) out.push(codes[(s[qo + k] ?? 1) - 1] ?? '?');
    return out;
  };
  const invNames = Object.keys(INV);
  const payNames = Object.keys(PAY);
  const shipNames = Object.keys(SHIP);
  return {
    available: s[0] ?? 0,
    orders: Array.from({ length: sys.options.orders }, (_, i) => {
      const b = sys.base(i);
      return {
        state: sys.table.names[s[b] ?? 0] ?? '?',
        inventory: invNames[s[b + 1] ?? 0] ?? '?',
        payment: payNames[s[b + 2] ?? 0] ?? '?',
        captures: s[b + 3] ?? 0,
        shipping: shipNames[s[b + 4] ?? 0] ?? '?',
        inFlight: [
          ...names(['ReserveInventory', 'ReleaseInventory'], 0, i),
          ...names(['ProcessPayment', 'RefundPayment'], 1, i),
          ...names(['PrepareShipment'], 2, i),
          ...names(REPLIES, 3, i),
        ],
      };
    }),
  };
}
