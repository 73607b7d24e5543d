import { compileFormula } from './property-eval.js';
import { describeFormula, isDataInvariant, perKeyBody } from './property-formula.js';
import type { SystemInvariant, SystemStateView } from './system-definition.js';

/** One key (an order) as read from the live databases. */
export interface LiveKey {
  readonly id: string;
  readonly state: string;
  readonly final: boolean;
  /** Nothing in flight for it (the caller's definition: e.g. final and unchanged for a grace period). */
  readonly quiet: boolean;
  /** Each participant's local state, loaded as its service loads it to run its decider. */
  readonly locals: Readonly<Record<string, unknown>>;
  /** Machine version of the key's instance (default 1). */
  readonly version?: number;
}

/** What a monitor round read: every key, the shared states, and whether the key list covers every key the shared states count. */
export interface LiveSnapshot {
  readonly keys: readonly LiveKey[];
  readonly shared: Readonly<Record<string, unknown>>;
  /** Set when the snapshot cannot judge system-wide properties (e.g. rows of keys it does not know): the reason. */
  readonly incomplete?: string;
}

export interface PropertyFinding {
  readonly property: string;
  readonly description: string;
  /** `key`: one key breaks a per-key property (`subject` names it); `system`: a system-wide property fails. */
  readonly scope: 'key' | 'system';
  readonly subject?: string;
  readonly formula?: string;
}

export interface PropertyReport {
  readonly property: string;
  readonly scope: 'key' | 'system';
  /** Keys judged (per-key), or all keys (system). */
  readonly evaluated: number;
  readonly violations: number;
  /** Why a system-wide property was not judged this round. */
  readonly skipped?: string;
}

export interface MonitorResult {
  readonly findings: readonly PropertyFinding[];
  readonly reports: readonly PropertyReport[];
}

class LiveView implements SystemStateView {
  constructor(private readonly s: LiveSnapshot) {}
  get keys(): number {
    return this.s.keys.length;
  }
  state(key: number): string {
    return this.s.keys[key]?.state ?? '?';
  }
  final(key: number): boolean {
    return this.s.keys[key]?.final ?? false;
  }
  local<L = unknown>(participant: string, key: number): L {
    return this.s.keys[key]?.locals[participant] as L;
  }
  shared<G = unknown>(participant: string): G {
    return this.s.shared[participant] as G;
  }
  quiet(key: number): boolean {
    return this.s.keys[key]?.quiet ?? false;
  }
  version(key: number): number {
    return this.s.keys[key]?.version ?? 1;
  }
}

/**
 * Evaluates a system's invariants on its live state: the same definitions the checker
 * proves. A per-key property (`forall k: …` reading only key k) is judged on every quiet
 * key, one at a time, so work in flight elsewhere never hides a broken key. Any other
 * property (sums over keys, shared state, a TypeScript function) is judged only when
 * every key is quiet and the snapshot is complete: the databases are read one after the
 * other, so a system-wide equation is only meaningful when nothing moves.
 */
export function monitorProperties(invariants: readonly SystemInvariant[], snapshot: LiveSnapshot): MonitorResult {
  const view = new LiveView(snapshot);
  const findings: PropertyFinding[] = [];
  const reports: PropertyReport[] = [];
  const moving = snapshot.keys.filter((k) => !k.quiet).length;
  for (const p of invariants) {
    const formula = isDataInvariant(p) ? describeFormula(p.formula) : undefined;
    const base = { property: p.name, description: p.description, ...(formula ? { formula } : {}) };
    const perKey = isDataInvariant(p) ? perKeyBody(p.formula) : undefined;
    if (perKey) {
      const holds = compileFormula(perKey.body, [perKey.key]);
      let evaluated = 0;
      let violations = 0;
      snapshot.keys.forEach((k, i) => {
        if (!k.quiet) return;
        evaluated++;
        if (holds(view, [i])) return;
        violations++;
        findings.push({ ...base, scope: 'key', subject: k.id });
      });
      reports.push({ property: p.name, scope: 'key', evaluated, violations });
      continue;
    }
    const skipped = snapshot.incomplete ?? (moving > 0 ? `${moving} key(s) in flight` : undefined);
    if (skipped) {
      reports.push({ property: p.name, scope: 'system', evaluated: 0, violations: 0, skipped });
      continue;
    }
    const ok = p.holds(view);
    if (!ok) findings.push({ ...base, scope: 'system' });
    reports.push({ property: p.name, scope: 'system', evaluated: snapshot.keys.length, violations: ok ? 0 : 1 });
  }
  return { findings, reports };
}
