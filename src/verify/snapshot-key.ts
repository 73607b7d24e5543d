import { delayOfTimer, type Snapshot } from '../machine/index.js';
import { canonicalJson } from './canonical-json.js';

/**
 * What makes two snapshots behave the same: state, context, saga steps and which
 * delays are armed. `seq` (an entry counter that only makes timer ids unique) is
 * left out, or a machine with a retry loop would have infinitely many states.
 */
export function snapshotKey(s: Snapshot): string {
  return canonicalJson({ state: s.state, context: s.context, steps: s.steps, timers: s.timers.map((t) => delayOfTimer(t) ?? t) });
}
