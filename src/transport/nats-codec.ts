import type { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { Message } from './message.js';
import { headerFields, type HeaderFields } from './nats-header-block.js';

// Ordo's own fields travel as headers beside the message's; the id is Nats-Msg-Id so the
// stream's duplicate window drops a re-publish. Message.headers keep their names, so a
// W3C `traceparent` is visible to any NATS tool as is.
const ID = 'Nats-Msg-Id';
const TYPE = 'Ordo-Type';
const KEY = 'Ordo-Key';
const TOPIC = 'Ordo-Topic';
export const DEAD_REASON = 'Ordo-Dead-Reason';
export const DEAD_GROUP = 'Ordo-Dead-Group';
export const DEAD_ATTEMPTS = 'Ordo-Dead-Attempts';

const RESERVED = /^(nats-|ordo-)/i;
/** Nats-* and Ordo-* names belong to the transport; the first-letter test skips the regex for most names. */
function reserved(name: string): boolean {
  const first = name.charCodeAt(0) | 32;
  return (first === 110 || first === 111) && RESERVED.test(name);
}
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeHeaders(message: Message, extra: Record<string, string> = {}): MsgHdrs {
  const h = natsHeaders();
  h.set(TYPE, message.type);
  h.set(KEY, message.key);
  h.set(TOPIC, message.topic);
  for (const [name, value] of Object.entries(message.headers)) if (value !== undefined && !reserved(name)) h.set(name, value);
  for (const [name, value] of Object.entries(extra)) h.set(name, value);
  return h;
}

export function encodePayload(payload: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(payload ?? null));
}

/** Rebuilds the Message from header fields and payload; throws on a message not written by ordo. */
export function decodeFields(data: Uint8Array, fields: Readonly<HeaderFields>): Message {
  const id = fields[ID];
  const type = fields[TYPE];
  const key = fields[KEY];
  const topic = fields[TOPIC];
  if (!id || !type || !key || !topic) throw new Error('not an ordo message (missing Nats-Msg-Id/Ordo-* headers)');
  const carried: Record<string, string> = {};
  for (const name in fields) if (!reserved(name)) carried[name] = fields[name] as string;
  return { id, topic, key, type, payload: JSON.parse(decoder.decode(data)) as unknown, headers: carried };
}

/** Rebuilds the Message of a delivery (throws on a message not written by ordo: it cannot be handled, only terminated). */
export function decodeDelivery(msg: JsMsg): Message {
  return decodeFields(msg.data, headerFields(msg));
}
