import { describe, expect, it } from 'vitest';
import { orderMachine } from '../shop/order-machine.js';
import { edges } from './graph.js';
import { toMermaid } from './mermaid.js';
import { machineToJSON } from './serialize.js';

describe('Mermaid export', () => {
  const text = toMermaid(orderMachine);
  it('is a stateDiagram-v2 starting at the initial state and ending at the final ones', () => {
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(text).toContain('  [*] --> INITIATED\n');
    expect(text).toContain('  DELIVERED --> [*]\n');
    expect(text).toContain('  CANCELED --> [*]\n');
  });
  it('draws one line per (from, to) pair, labelled with every trigger', () => {
    const pairs = new Set(edges(orderMachine).map((e) => `${e.from} --> ${e.to}`));
    const lines = text.split('\n').filter((l) => / --> /.test(l) && !l.includes('[*]'));
    expect(lines.map((l) => l.trim().replace(/:.*$/, '')).sort()).toEqual([...pairs].sort());
    expect(text).toContain('  PAYMENT_PROCESSING --> REFUNDING_PAYMENT: CancelRequested / after paymentTimeout\n');
    expect(text).toContain('  COMPENSATION_FAILED --> REFUNDING_PAYMENT: CompensationRetried [refundPending]\n');
    expect(text).toContain('  INVENTORY_RESERVED --> PAYMENT_PROCESSING: auto\n');
  });
});

describe('JSON form of a definition', () => {
  it('is plain JSON that names code by reference and survives a round trip', () => {
    const json = machineToJSON(orderMachine);
    const copy = JSON.parse(JSON.stringify(json)) as typeof json;
    expect(copy).toEqual(json);
    expect(copy).toMatchObject({ id: 'order', version: 1, initial: 'INITIATED', delays: { paymentTimeout: 60_000 } });
    expect(copy.guards).toEqual(['refundPending', 'releasePending']);
    expect(copy.states['PAYMENT_PROCESSING']).toMatchObject({ invoke: 'processPayment', on: { PaymentApproved: [{ target: 'PAYMENT_APPROVED', completes: 'processPayment' }] } });
    expect(copy.events['InventoryReserved']).toMatchObject({ type: 'object', properties: { reservationId: { type: 'string' } } });
  });
});
