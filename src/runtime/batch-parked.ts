import { recordInboxMany } from '../store/index.js';
import { applyIncoming } from './apply-event.js';
import { tooEarly, type BatchContext } from './batch-context.js';
import { deleteParked, postponeParked, type ParkedRow } from './parked-messages.js';

/**
 * Parked messages of the sagas this batch moved to another state (or created), and of
 * those the poller asked for: each is applied once the state takes it, in arrival order
 * (one applied can make the next acceptable). What still cannot be taken stays parked and
 * unrecorded in the inbox; what never will (a finished saga) is dead-lettered.
 */
export async function applyParkedMessages(b: BatchContext): Promise<void> {
  const { tx, deps } = b;
  // Moved: another state, or another machine version (a migration), may take what this one could not.
  const moved = [...b.working.values()].filter((w) => b.unparkAsked.has(w.id) || w.snapshot.state !== w.loaded?.snapshot.state || w.machineVersion !== w.loaded.machine_version);
  const movedIds = new Set(moved.map((w) => w.id));
  const parked = b.parked.filter((p) => movedIds.has(p.saga_id)).sort((x, y) => Number(BigInt(x.id) - BigInt(y.id)));
  if (parked.length === 0) return;
  const unhandled = await recordInboxMany(tx, deps.consumer, parked.map((p) => p.message_id));
  // Handled meanwhile (a redelivery got through): nothing left to do but forget it.
  const done: string[] = parked.filter((p) => !unhandled.has(p.message_id)).map((p) => p.id);
  let waiting = parked.filter((p) => unhandled.has(p.message_id));
  for (let progress = true; progress && waiting.length > 0; ) {
    progress = false;
    const still: ParkedRow[] = [];
    for (const p of waiting) {
      const w = b.working.get(p.saga_id);
      if (!w) continue;
      try {
        w.applyAtomically(() => applyIncoming(w, b.machineOf(w), p.message, deps.apply));
        done.push(p.id);
        progress = true;
      } catch (err) {
        if (tooEarly(w, err)) still.push(p);
        else {
          done.push(p.id);
          await b.deadLetter(p.message, err, w);
        }
      }
    }
    waiting = still;
  }
  await deleteParked(tx, done);
  await b.forgetInbox(waiting.map((p) => p.message_id));
  await postponeParked(tx, waiting.filter((p) => b.unparkAsked.has(p.saga_id)), deps.apply.now);
}
