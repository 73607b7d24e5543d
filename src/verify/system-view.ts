import type { SystemStateView } from './system-definition.js';
import { KIND, type SystemModel } from './system-model.js';

/** One key (order, trip…) in a readable state: the machine's state, each participant's local state, and the messages in flight. */
export interface KeyView {
  readonly state: string;
  readonly participants: Readonly<Record<string, unknown>>;
  readonly inFlight: readonly string[];
  /** Replies the key's state could not take yet, kept aside (runtime parking). */
  readonly parked: readonly string[];
}
export interface SystemView {
  readonly shared: Readonly<Record<string, unknown>>;
  readonly keys: readonly KeyView[];
}

export interface ActionDescription {
  readonly actor: string;
  readonly action: string;
  /** 1-based key the action concerns. */
  readonly order: number;
  readonly message?: string;
}

/** A property's view of a packed state; `bind` points it at a state without allocating. */
export class BoundView implements SystemStateView {
  private s: Uint8Array = new Uint8Array(0);
  private readonly index: Map<string, number>;
  constructor(private readonly m: SystemModel) {
    this.index = new Map(m.participants.map((p, i) => [p.participant.name, i]));
  }
  bind(s: Uint8Array): this {
    this.s = s;
    return this;
  }
  get keys(): number {
    return this.m.options.keys;
  }
  state(key: number): string {
    return this.m.table.names[this.s[this.m.base(key)] ?? 0] ?? '?';
  }
  final(key: number): boolean {
    return this.m.table.final[this.s[this.m.base(key)] ?? 0] === 1;
  }
  private at(participant: string): number {
    const p = this.index.get(participant);
    if (p === undefined) throw new Error(`no participant "${participant}" in system ${this.m.definition.name}`);
    return p;
  }
  local<L = unknown>(participant: string, key: number): L {
    const p = this.at(participant);
    return this.m.participants[p]?.locals[this.s[this.m.base(key) + 1 + p] ?? 0] as L;
  }
  shared<G = unknown>(participant: string): G {
    const p = this.at(participant);
    const o = this.m.sharedAt[p] ?? -1;
    return this.m.participants[p]?.shareds[o < 0 ? 0 : (this.s[o] ?? 0)] as G;
  }
  quiet(key: number): boolean {
    return this.m.quiet(this.s, key);
  }
  /** In a migration check: the key's instance is unfinished, on the old version, and migrating it fails (its context cannot be upcast). */
  cannotMigrate(key: number): boolean {
    const k = this.m.migrateInput;
    const l = this.s[this.m.base(key)] ?? 0;
    return k >= 0 && this.m.table.next[l * this.m.table.inputs.length + k] === -1;
  }
  /** Machine version of the key's instance (the old or the new one, in a migration check). */
  version(key: number): number {
    return this.m.table.version[this.s[this.m.base(key)] ?? 0] ?? 0;
  }
}

function messageName(m: SystemModel, q: number, code: number): string {
  if (q === m.replyQueue) return m.replies[code - 1] ?? '?';
  return m.participants[q]?.commands[code - 1] ?? '?';
}

/** The readable view of a packed state, for traces. */
export function viewOf(m: SystemModel, s: Uint8Array): SystemView {
  const v = new BoundView(m).bind(s);
  return {
    shared: Object.fromEntries(m.participants.filter((p) => p.shareds.length > 1 || p.shareds[0] !== null).map((p) => [p.participant.name, v.shared(p.participant.name)])),
    keys: Array.from({ length: m.options.keys }, (_, i) => {
      const inFlight: string[] = [];
      for (let q = 0; q <= m.participants.length; q++) {
        const qo = m.queueOffset(i, q);
        for (let k = 0; k < m.options.capacity && s[qo + k] !== 0; k++) inFlight.push(messageName(m, q, s[qo + k] ?? 0));
      }
      const parked: string[] = [];
      const pk = m.parkedOffset(i);
      for (let k = 0; k < m.options.capacity && s[pk + k] !== 0; k++) parked.push(m.replies[(s[pk + k] ?? 1) - 1] ?? '?');
      return { state: v.state(i), participants: Object.fromEntries(m.participants.map((p) => [p.participant.name, v.local(p.participant.name, i) ?? null])), inFlight, parked };
    }),
  };
}

/** Human-readable name of an action taken from state `s`. */
export function describeAction(m: SystemModel, s: Uint8Array, action: number): ActionDescription {
  const kind = action >>> 16;
  const i = (action >>> 8) & 0xff;
  const param = action & 0xff;
  const order = i + 1;
  const head = (q: number) => messageName(m, q, s[m.queueOffset(i, q)] ?? 0);
  const queueName = (q: number) => m.queues[q] ?? '?';
  switch (kind) {
    case KIND.environment: {
      const name = m.table.inputs[param]?.name ?? '?';
      const env = m.envInputs.find((e) => e.k === param);
      return { actor: m.actors[env?.actor ?? 0] ?? '?', action: `send ${name}`, order, message: name };
    }
    case KIND.timer:
      return { actor: 'timer', action: `fire ${m.table.inputs[param]?.name ?? '?'}`, order, message: 'ordo.timer' };
    case KIND.deliver:
      return { actor: m.definition.orchestrator, action: `handle ${head(m.replyQueue)}`, order, message: head(m.replyQueue) };
    case KIND.handle:
      return { actor: queueName(param), action: `handle ${head(param)}`, order, message: head(param) };
    case KIND.engineCrash:
      return { actor: 'crash', action: `${m.definition.orchestrator} handles ${head(m.replyQueue)}, crashes before ack (redelivered)`, order, message: head(m.replyQueue) };
    case KIND.crash:
      return { actor: 'crash', action: `${queueName(param)} handles ${head(param)}, crashes before ack (redelivered)`, order, message: head(param) };
    case KIND.choice: {
      const p = param >> 4;
      const x = param & 15;
      const code = s[m.queueOffset(i, p)] ?? 0;
      const fault = m.participants[p]?.choices[code - 1]?.[x]?.fault ?? '?';
      return { actor: queueName(p), action: `${fault} ${head(p)}`, order, message: head(p) };
    }
    case KIND.migrate: {
      const entry = (s[m.base(i)] ?? 0) * m.table.inputs.length + param;
      return { actor: 'migrator', action: `migrate ${m.table.inputs[param]?.name ?? '?'} (${m.table.names[s[m.base(i)] ?? 0] ?? '?'} → ${m.table.names[m.table.next[entry] ?? 0] ?? '?'})`, order };
    }
    case KIND.dup:
      return { actor: 'network', action: `duplicate ${head(param)} on ${queueName(param)} queue`, order, message: head(param) };
    case KIND.reorder:
      return { actor: 'network', action: `reorder ${queueName(param)} queue (${head(param)} overtaken)`, order, message: head(param) };
    case KIND.loss:
      return { actor: 'network', action: `lose ${head(param)} on ${queueName(param)} queue, resent later`, order, message: head(param) };
    default:
      return { actor: m.definition.orchestrator, action: `unknown action ${action}`, order };
  }
}
