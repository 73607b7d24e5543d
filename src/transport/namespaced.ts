import type { Message } from './message.js';
import { checkName } from './names.js';
import type { DeadLetter, Transport } from './transport.js';

/*
 * Several systems on one broker cluster (two shops, a test beside production) must not read
 * each other's topics or share consumer groups. NATS gets that from a stream per namespace;
 * Kafka has one flat topic space, so its topics and groups get the namespace as a prefix.
 * Handlers and dead-letter callbacks see the logical topic, as without a namespace.
 */

const SEPARATOR = '-';

export function namespacedTransport<T extends Transport>(inner: T, namespace: string): T {
  checkName('namespace', namespace);
  const prefix = `${namespace}${SEPARATOR}`;
  const outward = (topic: string) => `${prefix}${topic}`;
  const inward = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  const back = (m: Message): Message => ({ ...m, topic: inward(m.topic) });
  const backDead = (d: DeadLetter): DeadLetter => ({ ...d, message: back(d.message), group: inward(d.group) });
  const wrapped: Transport = {
    kind: inner.kind,
    publish: (messages) => inner.publish(messages.map((m) => ({ ...m, topic: outward(m.topic) }))),
    subscribe: (options) => {
      checkName('topic', options.topic);
      checkName('group', options.group);
      const { onDeadLetter } = options;
      return inner.subscribe({
        ...options,
        topic: outward(options.topic),
        group: outward(options.group),
        handler: (delivery) => options.handler({ ...delivery, message: back(delivery.message) }),
        ...(onDeadLetter ? { onDeadLetter: (d: DeadLetter) => onDeadLetter(backDead(d)) } : {}),
      });
    },
    status: () => inner.status(),
    close: () => inner.close(),
  };
  return Object.assign(Object.create(inner) as T, wrapped);
}
