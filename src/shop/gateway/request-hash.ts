import { createHash } from 'node:crypto';

/** A stable hash of an order request: same customer, same lines in the same order. */
export function orderRequestHash(customerId: string, items: readonly { sku: string; quantity: number }[]): string {
  const canonical = JSON.stringify([customerId, items.map((i) => [i.sku, i.quantity])]);
  return createHash('sha256').update(canonical).digest('hex');
}
