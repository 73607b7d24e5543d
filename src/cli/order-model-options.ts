import { ORDER_EXTENSIONS, SEED_TRANSITIONS, orderMachine } from '../shop/index.js';
import { FAULTS, type Fault, type OrderSystemOptions } from '../verify/index.js';
import type { ModelFlags } from './order-model-flags.js';
import { failUsage } from './usage-error.js';

/** The seed's valid transitions plus the edges ordo documents as extensions (ValidStateTransitions). */
export function allowedOrderTransitions(): Record<string, string[]> {
  const allowed: Record<string, string[]> = {};
  for (const [from, tos] of Object.entries(SEED_TRANSITIONS)) allowed[from] = [...tos];
  for (const e of ORDER_EXTENSIONS) (allowed[e.from] ??= []).push(e.to);
  return allowed;
}

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) failUsage(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

export function parseFaults(raw: string | undefined): Partial<Record<Fault, number>> {
  const faults: Partial<Record<Fault, number>> = {};
  if (raw === undefined || raw.trim() === '' || raw === 'none') return faults;
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name = '', budget] = part.split('=');
    if (!(FAULTS as readonly string[]).includes(name)) failUsage(`unknown fault "${name}" in --faults; known: ${FAULTS.join(', ')}`);
    faults[name as Fault] = budget === undefined ? 1 : int(`faults ${name}`, budget, 0, 100);
  }
  return faults;
}

export function orderModelOptions(model: string, flags: ModelFlags): OrderSystemOptions {
  if (model !== 'order') failUsage(`unknown model "${model}"; known: order`);
  const orders = int('orders', flags.orders, 1, 16);
  const options: OrderSystemOptions = {
    machine: orderMachine,
    context: { orderId: 'order-1', customerId: 'customer-1', items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }], total: 1000 },
    orders,
    faults: parseFaults(flags.faults),
    symmetry: flags.symmetry === true,
    allowedTransitions: allowedOrderTransitions(),
    ...(flags.stock === undefined ? {} : { stock: int('stock', flags.stock, 0, 255) }),
    ...(flags.capacity === undefined ? {} : { capacity: int('capacity', flags.capacity, 2, 32) }),
  };
  return options;
}
