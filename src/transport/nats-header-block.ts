import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

/*
 * Reading a delivery's headers through the client's MsgHdrs costs about a third of the CPU
 * a consumer spends per message (every append canonicalises the name, scans every name
 * already there and runs a regex on the value). Ordo reads each header once, so it parses
 * the raw header block itself: one string, one pass. The block is reached through the
 * client's message fields (`_msg.hdr`, `_rdata`); if a client version lays them out
 * differently, `headerFields` falls back to the public MsgHdrs, so only speed depends on it.
 */

const utf8 = new TextDecoder();

/** Header name → value, first of each name; a plain object without prototype (cheaper than a Map here). */
export type HeaderFields = Record<string, string>;

const emptyFields = (): HeaderFields => Object.create(null) as HeaderFields;

/** Header name → its first value (trimmed), names as sent; null if the block is not a NATS header block. */
export function parseHeaderBlock(block: Uint8Array): HeaderFields | null {
  const text = utf8.decode(block);
  const fields = emptyFields();
  if (text === '') return fields;
  if (!text.startsWith('NATS/')) return null;
  let at = text.indexOf('\r\n');
  while (at !== -1) {
    const start = at + 2;
    at = text.indexOf('\r\n', start);
    const end = at === -1 ? text.length : at;
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= end) continue;
    const name = text.slice(start, colon);
    if (fields[name] === undefined) fields[name] = text.slice(colon + 1, end).trim();
  }
  return fields;
}

interface RawMsgFields {
  readonly _msg?: { readonly hdr?: unknown };
  readonly _rdata?: unknown;
}

/** The raw header block of a delivery, or undefined when the client does not expose it the expected way. */
export function rawHeaderBlock(msg: JsMsg): Uint8Array | undefined {
  const inner = (msg as unknown as { msg?: RawMsgFields }).msg;
  const hdr = inner?._msg?.hdr;
  const data = inner?._rdata;
  if (typeof hdr !== 'number' || hdr < 0 || !(data instanceof Uint8Array) || hdr > data.length) return undefined;
  return data.subarray(0, hdr);
}

function fromMsgHdrs(h: MsgHdrs | undefined): HeaderFields {
  const fields = emptyFields();
  if (h) for (const [name, values] of h) if (values[0] !== undefined && fields[name] === undefined) fields[name] = values[0];
  return fields;
}

/** A delivery's headers as name → first value, by the fast path when possible. */
export function headerFields(msg: JsMsg): HeaderFields {
  const block = rawHeaderBlock(msg);
  return (block && parseHeaderBlock(block)) ?? fromMsgHdrs(msg.headers);
}
