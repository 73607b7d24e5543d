import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerFields, parseHeaderBlock } from './nats-header-block.js';

// The client writes a block with MsgHdrs#encode and reads a received one with the static
// MsgHdrsImpl.decode; neither is in its public types.
interface ClientHeaders {
  encode(): Uint8Array;
  constructor: { decode(block: Uint8Array): Iterable<[string, string[]]> };
}
const encode = (h: MsgHdrs) => (h as unknown as ClientHeaders).encode();

/** What the client's own decoder makes of a block: name → first value. */
function viaClient(block: Uint8Array): Record<string, string> {
  const decoded = (natsHeaders() as unknown as ClientHeaders).constructor.decode(block);
  const out: Record<string, string> = {};
  for (const [name, values] of decoded) if (values[0] !== undefined && out[name] === undefined) out[name] = values[0];
  return out;
}

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
const value = fc.string({ maxLength: 40, unit: fc.constantFrom(...'abcXYZ019 -_:;/.=é✓'.split('')) }).filter((v) => v.trim() === v);

describe('parseHeaderBlock', () => {
  it('reads what the client wrote exactly as the client reads it (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (pairs) => {
        const h = natsHeaders();
        for (const [n, v] of pairs) h.append(n, v);
        const block = encode(h);
        expect({ ...parseHeaderBlock(block) }).toEqual(viaClient(block));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the first of repeated names, trims values, skips a status line and blank lines', () => {
    const block = new TextEncoder().encode('NATS/1.0 100 Idle Heartbeat\r\nA: 1\r\nB:  two words  \r\nA: 3\r\n\r\n');
    expect(Object.entries(parseHeaderBlock(block) ?? {})).toEqual([
      ['A', '1'],
      ['B', 'two words'],
    ]);
  });

  it('refuses a block that is not a NATS header block', () => {
    expect(parseHeaderBlock(new TextEncoder().encode('HTTP/1.1 200 OK\r\nA: 1\r\n\r\n'))).toBeNull();
  });
});

describe('headerFields', () => {
  it('falls back to the public headers when the client does not expose the raw block', () => {
    const h = natsHeaders();
    h.set('Ordo-Type', 'T');
    h.append('X', '1');
    h.append('X', '2');
    const msg = { headers: h, data: new Uint8Array() } as unknown as JsMsg;
    expect(Object.entries(headerFields(msg))).toEqual([
      ['Ordo-Type', 'T'],
      ['X', '1'],
    ]);
  });

  it('uses the raw block when the client exposes it', () => {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'm1');
    const block = encode(h);
    const payload = new TextEncoder().encode('{}');
    const rdata = new Uint8Array([...block, ...payload]);
    const msg = { msg: { _msg: { hdr: block.length }, _rdata: rdata }, get headers(): never { throw new Error('public headers read') } } as unknown as JsMsg;
    expect(headerFields(msg)['Nats-Msg-Id']).toBe('m1');
  });
});
