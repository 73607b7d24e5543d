import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { Message } from './message.js';

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

const reserved = (name: string) => /^(nats-|ordo-)/i.test(name);
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

/** Rebuilds the Message; throws on a message not written by ordo (no dead letter can fix it, so it is dead-lettered). */
export function decode(data: Uint8Array, h: MsgHdrs | undefined): Message {
  const id = h?.get(ID);
  const type = h?.get(TYPE);
  const key = h?.get(KEY);
  const topic = h?.get(TOPIC);
  if (!h || !id || !type || !key || !topic) throw new Error('not an ordo message (missing Nats-Msg-Id/Ordo-* headers)');
  const carried: Record<string, string> = {};
  for (const [name, values] of h) if (!reserved(name) && values[0] !== undefined) carried[name] = values[0];
  return { id, topic, key, type, payload: JSON.parse(decoder.decode(data)) as unknown, headers: carried };
}
