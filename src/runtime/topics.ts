import type { Effect } from '../machine/index.js';

/**
 * Where outgoing effects go: commands to `<service>-commands` and published events
 * to `<machine>-events`, unless mapped otherwise.
 */
export interface TopicMapping {
  /** Service name (the `to` of a send) → topic. */
  readonly commands?: Readonly<Record<string, string>>;
  /** Machine id → topic for its published events. */
  readonly events?: Readonly<Record<string, string>>;
}

export function topicOf(mapping: TopicMapping, machineId: string, effect: Extract<Effect, { kind: 'send' | 'publish' }>): string {
  if (effect.kind === 'send') return mapping.commands?.[effect.to] ?? `${effect.to}-commands`;
  return mapping.events?.[machineId] ?? `${machineId}-events`;
}
