import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../store/index.js';
import { orderTimelineOf } from './order-timeline.js';

let version = 0;
const message = (type: string, data: unknown, metadata: Record<string, unknown>): StoredMessage => {
  version += 1;
  return { position: BigInt(version), txId: 1n, stream: 'order-o1', streamVersion: version, id: `o1/${version}`, type, data, metadata, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)) };
};

describe("the gateway's order timeline (a view on eventsourcing's timeline)", () => {
  it('gives a state change per step of a path, the start, and each message as kind:Type', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const messages = [
      message('ordo.transition', { trigger: { type: 'ordo.start' }, from: null, to: 'INITIATED', path: [] }, { kind: 'timeline', key: 'o1' }),
      message(
        'ordo.transition',
        { trigger: { type: 'InventoryReserved' }, from: 'INVENTORY_RESERVING', to: 'PAYMENT_PROCESSING', path: [{ from: 'INVENTORY_RESERVING', to: 'INVENTORY_RESERVED', event: 'InventoryReserved' }, { from: 'INVENTORY_RESERVED', to: 'PAYMENT_PROCESSING', event: 'auto' }] },
        { kind: 'timeline', key: 'o1', causationId: 'm-7' },
      ),
      message('ProcessPayment', { amount: 450 }, { kind: 'command', key: 'o1', topic: 'payment-commands' }),
      message('ordo.ignored', { trigger: { type: 'InventoryReserved' } }, { kind: 'timeline', key: 'o1' }),
      message('Note', { x: 1 }, {}),
    ];
    expect(orderTimelineOf(messages)).toEqual([
      { at: at(1), correlationId: 'o1', type: 'transition', to: 'INITIATED', data: { event: 'start' } },
      { at: at(2), correlationId: 'o1', causationId: 'm-7', type: 'transition', from: 'INVENTORY_RESERVING', to: 'INVENTORY_RESERVED', data: { event: 'InventoryReserved' } },
      { at: at(2), correlationId: 'o1', causationId: 'm-7', type: 'transition', from: 'INVENTORY_RESERVED', to: 'PAYMENT_PROCESSING', data: { event: 'auto' } },
      { at: at(3), correlationId: 'o1', type: 'command:ProcessPayment', data: { amount: 450 } },
      { at: at(4), correlationId: 'o1', type: 'ordo.ignored', data: { trigger: { type: 'InventoryReserved' } } },
      { at: at(5), type: 'message:Note', data: { x: 1 } },
    ]);
  });

  it('shows a live migration as one entry: the versions, the state before and after', () => {
    const migrated = message('ordo.migrated', { fromVersion: 1, toVersion: 2, mode: 'await', from: 'SHIPPED', to: 'SHIPPED', path: [], changes: {}, snapshot: {} }, { kind: 'timeline', key: 'o1' });
    expect(orderTimelineOf([migrated])).toEqual([
      { at: migrated.createdAt.toISOString(), correlationId: 'o1', type: 'migration', from: 'SHIPPED', to: 'SHIPPED', data: { fromVersion: 1, toVersion: 2, mode: 'await' } },
    ]);
  });
});
