import type { LocalCommand, LocalTable } from './local-table.js';

/** One retry the exploration made: from (local before the step, local after it, parked codes) to where it ended and what it sent. */
export interface RetryRecord {
  readonly origin: number;
  readonly from: number;
  readonly parked: readonly number[];
  readonly to: number;
  readonly left: readonly number[];
  readonly sends: readonly LocalCommand[];
}

/** What the exploration did with parked replies: machine table entries (local × reply) parked at and retried into, and every retry (for the exports). */
export class ParkingLog {
  readonly parked = new Set<number>();
  readonly retried = new Set<number>();
  readonly retries = new Map<string, RetryRecord>();
}

/** What the retry needs of the model (system-model.ts), named here so the two files do not import each other. */
export interface ParkingModel {
  readonly table: LocalTable;
  readonly options: { readonly capacity: number };
  readonly parking: ParkingLog;
  parkedOffset(key: number): number;
  base(key: number): number;
  queueOffset(key: number, service: number): number;
  push(t: Uint8Array, offset: number, code: number): void;
}

function parkedCodes(m: ParkingModel, t: Uint8Array, key: number): number[] {
  const pk = m.parkedOffset(key);
  const out: number[] = [];
  for (let k = 0; k < m.options.capacity && t[pk + k] !== 0; k++) out.push(t[pk + k] ?? 0);
  return out;
}

/** The runtime's retry of parked replies: passes in arrival order, each applied once the state takes it, until a pass applies none. True when a change left the allowed edges. */
export function retryParked(m: ParkingModel, t: Uint8Array, key: number, origin: number): boolean {
  const tab = m.table;
  const I = tab.inputs.length;
  const C = m.options.capacity;
  const pk = m.parkedOffset(key);
  const b = m.base(key);
  const from = t[b] ?? 0;
  const parked = parkedCodes(m, t, key);
  const sends: LocalCommand[] = [];
  let invalid = false;
  for (let progress = true; progress; ) {
    progress = false;
    for (let j = 0; j < C && t[pk + j] !== 0; ) {
      const e = (t[b] ?? 0) * I + (t[pk + j] ?? 1) - 1;
      if ((tab.next[e] ?? -1) < 0) {
        j++;
        continue;
      }
      m.parking.retried.add(e);
      for (let k = j; k < C - 1; k++) t[pk + k] = t[pk + k + 1] ?? 0;
      t[pk + C - 1] = 0;
      t[b] = tab.next[e] ?? 0;
      for (const c of tab.sends[e] ?? []) m.push(t, m.queueOffset(key, c.service), c.code);
      sends.push(...(tab.sends[e] ?? []));
      invalid ||= tab.invalid[e] === 1;
      progress = true;
    }
  }
  const id = `${origin}|${from}|${parked.join(',')}`;
  if (!m.parking.retries.has(id)) m.parking.retries.set(id, { origin, from, parked, to: t[b] ?? 0, left: parkedCodes(m, t, key), sends });
  return invalid;
}
