import { describe, expect, it } from 'vitest';
import { decodeFields } from './nats-codec.js';

const payload = new TextEncoder().encode('{"n":1}');
const ordo = { 'Nats-Msg-Id': 'm1', 'Ordo-Type': 'T', 'Ordo-Key': 'k', 'Ordo-Topic': 't' };

describe('decodeFields', () => {
  it('takes id, type, key and topic from the transport headers and carries every other header by name', () => {
    const m = decodeFields(payload, { ...ordo, traceparent: 'tp', correlationId: 'o1', 'nats-expected-stream': 'S', 'ORDO-DEAD-REASON': 'r', oddName: 'x' });
    expect(m).toEqual({ id: 'm1', type: 'T', key: 'k', topic: 't', payload: { n: 1 }, headers: { traceparent: 'tp', correlationId: 'o1', oddName: 'x' } });
  });

  it.each(Object.keys(ordo))('refuses a message without %s', (name) => {
    const fields: Record<string, string> = { ...ordo };
    delete fields[name];
    expect(() => decodeFields(payload, fields)).toThrow(/not an ordo message/);
  });
});
