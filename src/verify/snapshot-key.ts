import { delayOfTimer, type Snapshot } from '../machine/index.js';
import { canonicalJson } from './canonical-json.js';

/**
 * What makes two snapshots behave the same: state, context, saga steps and which
 * delays are armed. `seq` (an entry counter that only makes timer ids unique) is
 * left out, or a machine with a retry loop would have infinitely many states. The
 * version tells an instance before a live migration from the same one after it.
 */
export function snapshotKey(s: Snapshot): string {
  return canonicalJson({ state: s.state, version: s.version, context: s.context, steps: s.steps, timers: s.timers.map((t) => delayOfTimer(t) ?? t) });
}
