import { InvalidTransportNameError } from './errors.js';
import type { Message } from './message.js';

// One rule for every transport so a topic valid in-process is valid on NATS (a subject
// token: no dots or wildcards) and Kafka (topic names), and a group is a valid durable name.
const NAME = /^[A-Za-z0-9_-]{1,100}$/;

export function checkName(field: 'topic' | 'group' | 'stream' | 'namespace', value: string): void {
  if (!NAME.test(value)) throw new InvalidTransportNameError(field, value, 'use 1-100 of A-Z a-z 0-9 _ -');
}

export function checkMessage(message: Message): void {
  checkName('topic', message.topic);
  if (message.id.length === 0) throw new InvalidTransportNameError('message id', message.id, 'must not be empty');
  if (message.key.length === 0) throw new InvalidTransportNameError('key', message.key, 'must not be empty');
}

export const DEFAULT_MAX_DELIVER = 5;

export function errorReason(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Groups messages by key, keeping publish order within each key. */
export function byKey(messages: readonly Message[]): Map<string, Message[]> {
  const keys = new Map<string, Message[]>();
  for (const m of messages) {
    const list = keys.get(m.key);
    if (list) list.push(m);
    else keys.set(m.key, [m]);
  }
  return keys;
}
