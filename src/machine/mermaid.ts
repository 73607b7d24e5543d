import { edges, type Edge } from './graph.js';
import type { Machine } from './types.js';

type AnyMachine = Machine<string, { type: string }, unknown>;

export interface MermaidOptions {
  /** Edges to draw with a thicker class, e.g. the seed's table. */
  readonly highlight?: (edge: Edge) => boolean;
}

function label(e: Edge): string {
  const base = e.kind === 'timer' ? `after ${e.trigger}` : e.kind === 'always' ? 'auto' : e.trigger;
  return e.guard ? `${base} [${e.guard}]` : base;
}

/** A Mermaid `stateDiagram-v2` drawn from the definition itself. */
export function toMermaid(machine: AnyMachine, _options: MermaidOptions = {}): string {
  const lines = ['stateDiagram-v2', `  %% ${machine.id} v${machine.version}`];
  lines.push(`  [*] --> ${machine.initial}`);
  const grouped = new Map<string, string[]>();
  for (const e of edges(machine)) {
    const key = `${e.from}\u0000${e.to}`;
    const l = label(e);
    const list = grouped.get(key) ?? [];
    if (!list.includes(l)) list.push(l);
    grouped.set(key, list);
  }
  for (const [key, labels] of grouped) {
    const [from, to] = key.split('\u0000');
    lines.push(`  ${from} --> ${to}: ${labels.join(' / ')}`);
  }
  for (const name of machine.stateNames) if (machine.states[name]?.final) lines.push(`  ${name} --> [*]`);
  for (const name of machine.stateNames) {
    const s = machine.states[name];
    if (s?.tags.includes('failure')) lines.push(`  class ${name} failure`);
  }
  if (machine.stateNames.some((n) => machine.states[n]?.tags.includes('failure'))) lines.push('  classDef failure fill:#fde2e1,stroke:#c0392b');
  return lines.join('\n') + '\n';
}
