import type { MessageToProduce, Message as KafkaMessage } from '@platformatic/kafka';
import type { Message } from './message.js';

// Kafka topic = Message.topic, record key = Message.key (so one saga stays in one
// partition), value = JSON payload. Ordo's own fields are `ordo-*` headers; the message's
// headers keep their names, so `traceparent` is visible to any Kafka tool.
const ID = 'ordo-id';
const TYPE = 'ordo-type';
export const DEAD_REASON = 'ordo-dead-reason';
export const DEAD_GROUP = 'ordo-dead-group';
export const DEAD_ATTEMPTS = 'ordo-dead-attempts';

const reserved = (name: string) => name.toLowerCase().startsWith('ordo-');

export type StringRecord = MessageToProduce<string, string, string, string>;

export function encode(message: Message, topic = message.topic, extra: Record<string, string> = {}): StringRecord {
  const headers = new Map<string, string>([
    [ID, message.id],
    [TYPE, message.type],
  ]);
  for (const [name, value] of Object.entries(message.headers)) if (value !== undefined && !reserved(name)) headers.set(name, value);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return { topic, key: message.key, value: JSON.stringify(message.payload ?? null), headers };
}

export function decode(record: KafkaMessage<string, string, string, string>): Message {
  const id = record.headers.get(ID);
  const type = record.headers.get(TYPE);
  if (!id || !type || record.key === undefined || record.value === undefined) throw new Error('not an ordo message (missing key, value or ordo-id/ordo-type headers)');
  const carried: Record<string, string> = {};
  for (const [name, value] of record.headers) if (!reserved(name) && value !== undefined) carried[name] = value;
  return { id, topic: record.topic, key: record.key, type, payload: JSON.parse(record.value) as unknown, headers: carried };
}
