import { describe, expect, it } from 'vitest';
import { compareGlobalPositions, defaultRelayMessage, LOG_START, type StoredMessage } from './index.js';

const stored = (metadata: Record<string, unknown>): StoredMessage => ({
  position: 10n,
  txId: 5n,
  stream: 'order-1',
  streamVersion: 3,
  id: 'm-1',
  type: 'ReserveInventory',
  data: { sku: 'a' },
  metadata,
  createdAt: new Date(0),
});

describe('defaultRelayMessage', () => {
  it('keeps internal messages (no topic) in the log', () => {
    expect(defaultRelayMessage(stored({}))).toBeNull();
    expect(defaultRelayMessage(stored({ topic: '' }))).toBeNull();
    expect(defaultRelayMessage(stored({ topic: 42 }))).toBeNull();
  });

  it('publishes under the log id, keyed by the stream unless metadata.key says otherwise, with scalar metadata as string headers', () => {
    expect(defaultRelayMessage(stored({ topic: 'inventory-commands', correlationId: 'o1', attempt: 2, nested: { a: 1 }, gone: null }))).toEqual({
      id: 'm-1',
      topic: 'inventory-commands',
      key: 'order-1',
      type: 'ReserveInventory',
      payload: { sku: 'a' },
      headers: { correlationId: 'o1', attempt: '2' },
    });
    expect(defaultRelayMessage(stored({ topic: 't', key: 'saga-9' }))?.key).toBe('saga-9');
  });
});

describe('compareGlobalPositions', () => {
  it('orders by transaction id first, then position', () => {
    const sorted = [
      { txId: 7n, position: 1n },
      { txId: 5n, position: 9n },
      { txId: 5n, position: 2n },
      LOG_START,
    ].sort(compareGlobalPositions);
    expect(sorted).toEqual([LOG_START, { txId: 5n, position: 2n }, { txId: 5n, position: 9n }, { txId: 7n, position: 1n }]);
    expect(compareGlobalPositions({ txId: 1n, position: 1n }, { txId: 1n, position: 1n })).toBe(0);
  });
});
