import { TransportClosedError } from './errors.js';
import type { Message } from './message.js';
import { checkMessage, checkName, DEFAULT_MAX_DELIVER, errorReason } from './names.js';
import type { DeadLetter, SubscribeOptions, Subscription, Transport, TransportStatus } from './transport.js';

export interface InProcessTransportOptions {
  /** Delay before a message whose handler threw is delivered again (default 20 ms). */
  readonly redeliveryDelayMs?: number;
  /** A message id published again within this window is dropped (default 120 000 ms, like JetStream; 0 = off). */
  readonly dedupWindowMs?: number;
  /** Messages kept per topic for groups that subscribe later (default 10 000, oldest dropped first). */
  readonly retain?: number;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
}

export interface InProcessTransport extends Transport {
  readonly kind: 'inprocess';
  /** Every message dead-lettered so far, oldest first. */
  deadLetters(): readonly DeadLetter[];
}

interface Pending {
  readonly message: Message;
  attempt: number;
}

interface Member {
  readonly options: SubscribeOptions;
  readonly running: Set<Promise<void>>;
  closed: boolean;
}

/** One consumer group on one topic: a queue per key, at most one delivery per key at a time. */
interface Group {
  readonly name: string;
  readonly queues: Map<string, Pending[]>;
  readonly busy: Set<string>;
  readonly members: Member[];
  next: number;
}

interface Topic {
  readonly log: Message[];
  readonly groups: Map<string, Group>;
}

/**
 * The embedded transport: same contract as the brokers (at-least-once, redelivery with an
 * attempt count, dead letter after `maxDeliver`, per-key order within a group, consumer
 * groups, dedup by id) but held in memory, so it is only as durable as the process.
 */
export function createInProcessTransport(options: InProcessTransportOptions = {}): InProcessTransport {
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 20;
  const dedupWindowMs = options.dedupWindowMs ?? 120_000;
  const retain = options.retain ?? 10_000;
  const topics = new Map<string, Topic>();
  const seen = new Map<string, number>(); // message id -> publish time (insertion ordered)
  const deadLetters: DeadLetter[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const started = Date.now();
  let closed = false;

  function topicOf(name: string): Topic {
    let t = topics.get(name);
    if (!t) {
      t = { log: [], groups: new Map() };
      topics.set(name, t);
    }
    return t;
  }

  function isDuplicate(id: string, now: number): boolean {
    if (dedupWindowMs <= 0) return false;
    for (const [old, at] of seen) {
      if (now - at < dedupWindowMs) break;
      seen.delete(old);
    }
    if (seen.has(id)) return true;
    seen.set(id, now);
    return false;
  }

  function enqueue(group: Group, message: Message): void {
    const queue = group.queues.get(message.key);
    if (queue) queue.push({ message, attempt: 1 });
    else group.queues.set(message.key, [{ message, attempt: 1 }]);
    dispatch(group, message.key);
  }

  function pickMember(group: Group): Member | undefined {
    const live = group.members.filter((m) => !m.closed);
    if (live.length === 0) return undefined;
    group.next = (group.next + 1) % live.length;
    return live[group.next];
  }

  function dispatch(group: Group, key: string): void {
    if (closed || group.busy.has(key)) return;
    const head = group.queues.get(key)?.[0];
    if (!head) return;
    const member = pickMember(group);
    if (!member) return; // delivered when a member subscribes
    group.busy.add(key);
    const run = deliver(group, key, head, member);
    member.running.add(run);
    void run.finally(() => member.running.delete(run));
  }

  async function deliver(group: Group, key: string, pending: Pending, member: Member): Promise<void> {
    await Promise.resolve(); // never run a handler inside publish()
    const maxDeliver = member.options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    try {
      await member.options.handler({ message: pending.message, attempt: pending.attempt });
    } catch (err) {
      if (pending.attempt < maxDeliver) {
        pending.attempt += 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          group.busy.delete(key);
          dispatch(group, key);
        }, redeliveryDelayMs);
        timers.add(timer);
        return;
      }
      const dead: DeadLetter = { message: pending.message, group: group.name, attempts: pending.attempt, reason: errorReason(err) };
      deadLetters.push(dead);
      await notify(dead, member.options.onDeadLetter);
    }
    const queue = group.queues.get(key);
    queue?.shift();
    if (queue?.length === 0) group.queues.delete(key);
    group.busy.delete(key);
    dispatch(group, key);
  }

  async function notify(dead: DeadLetter, perSubscription: SubscribeOptions['onDeadLetter']): Promise<void> {
    for (const callback of [perSubscription, options.onDeadLetter]) {
      try {
        await callback?.(dead);
      } catch {
        // A failing dead-letter callback must not block the key; the list above keeps the record.
      }
    }
  }

  return {
    kind: 'inprocess',
    publish(messages) {
      if (closed) return Promise.reject(new TransportClosedError('inprocess'));
      try {
        messages.forEach(checkMessage);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const now = Date.now();
      for (const message of messages) {
        if (isDuplicate(message.id, now)) continue;
        const topic = topicOf(message.topic);
        topic.log.push(message);
        if (topic.log.length > retain) topic.log.shift();
        for (const group of topic.groups.values()) enqueue(group, message);
      }
      return Promise.resolve();
    },
    subscribe(subscribeOptions) {
      if (closed) return Promise.reject(new TransportClosedError('inprocess'));
      try {
        checkName('topic', subscribeOptions.topic);
        checkName('group', subscribeOptions.group);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const topic = topicOf(subscribeOptions.topic);
      let group = topic.groups.get(subscribeOptions.group);
      const member: Member = { options: subscribeOptions, running: new Set(), closed: false };
      if (!group) {
        // A new group starts from the oldest retained message, like a durable consumer
        // with DeliverPolicy.All or a Kafka group with auto.offset.reset=earliest.
        group = { name: subscribeOptions.group, queues: new Map(), busy: new Set(), members: [member], next: 0 };
        topic.groups.set(subscribeOptions.group, group);
        for (const message of topic.log) enqueue(group, message);
      } else {
        group.members.push(member);
        for (const key of group.queues.keys()) dispatch(group, key);
      }
      const joined = group;
      const subscription: Subscription = {
        async close() {
          if (member.closed) return;
          member.closed = true;
          await Promise.allSettled([...member.running]);
          const i = joined.members.indexOf(member);
          if (i >= 0) joined.members.splice(i, 1);
          // Keys this member was about to get go to the others.
          for (const key of joined.queues.keys()) dispatch(joined, key);
        },
      };
      return Promise.resolve(subscription);
    },
    status(): TransportStatus {
      return { connected: !closed, disconnects: 0, since: started };
    },
    deadLetters: () => [...deadLetters],
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const running: Promise<void>[] = [];
      for (const topic of topics.values()) for (const group of topic.groups.values()) for (const m of group.members) running.push(...m.running);
      await Promise.allSettled(running);
    },
  };
}
