import { describe, expect, it } from 'vitest';
import { ConnectionState } from './logger.js';
import { partitionOf } from './partition.js';

describe('ConnectionState', () => {
  it('logs one line per change, counts disconnects and reports the last error', () => {
    const lines: string[] = [];
    const log = (_: object, msg: string) => void lines.push(msg);
    const changes: boolean[] = [];
    const s = new ConnectionState('nats', { info: log, warn: log, error: log }, (st) => changes.push(st.connected));
    s.up('connect');
    s.down('server', 'ECONNREFUSED');
    s.down('server', 'ECONNREFUSED'); // still down: no second line
    s.up('server');
    expect(lines).toEqual(['nats: broker unreachable, reconnecting with backoff', 'nats: connection restored']);
    expect(changes).toEqual([true, false, true]);
    expect(s.status()).toMatchObject({ connected: true, disconnects: 1, lastError: 'ECONNREFUSED' });
  });
});

describe('partitionOf', () => {
  it('maps a key to the same partition every time and spreads keys over all partitions', () => {
    expect(partitionOf('order-42', 16)).toBe(partitionOf('order-42', 16));
    const used = new Set(Array.from({ length: 1_000 }, (_, i) => partitionOf(`order-${i}`, 16)));
    expect(used.size).toBe(16);
    for (const p of used) expect(p >= 0 && p < 16).toBe(true);
  });
});
