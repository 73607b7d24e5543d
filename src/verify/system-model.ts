import { adjacency, type MachineMigration } from '../machine/index.js';
import { ModelBoundError, ModelOptionsError } from './errors.js';
import { buildLocalTable, type LocalTable } from './local-table.js';
import { ParticipantTable } from './participant-table.js';
import { ParkingLog, retryParked } from './system-parking.js';
import { effectRouter } from './wiring-routes.js';
import { faultsOf, type SystemDefinition, type SystemRunOptions } from './system-definition.js';

/** Action kinds (action code = kind << 16 | key << 8 | param). */
export const KIND = { environment: 1, timer: 2, deliver: 3, handle: 4, crash: 5, choice: 6, dup: 7, reorder: 8, loss: 9, engineCrash: 10, migrate: 11, relayCrash: 12 } as const;

export type Emit = (next: Uint8Array, actor: number, action: number, invalidTransition: boolean) => void;

/**
 * A live migration to check: the keys start under `from` (the old system's machine) and each
 * may migrate, once, at any state, by `migration`; the model's definition is the new system.
 */
export interface MigrationUnderCheck {
  readonly from: SystemDefinition;
  readonly migration: MachineMigration<never, unknown>;
}

export interface ResolvedRun {
  readonly keys: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly capacity: number;
  readonly symmetry: boolean;
}

/**
 * A system definition compiled for the checker: the machine and every participant as
 * finite tables, and the packed state vector (all bytes):
 *   [one byte per participant with a changing shared state] [one budget byte per enabled fault]
 *   then per key a block [machine local, one local byte per participant, one command queue
 *   per participant, the reply queue, the parked replies]. Queues are FIFO arrays packed to
 *   the front (0 = empty).
 * Parking is the runtime's (runtime/parked-messages.ts): a reply the key's state neither
 * accepts nor ignores is kept aside in arrival order, and tried again, in passes, whenever
 * the key's state changes; one still parked when the key is final is stranded (the
 * runtime dead-letters it). The Promela export declares the same layout, so SPIN's state
 * count equals ours.
 */
export class SystemModel {
  readonly table: LocalTable;
  readonly participants: readonly ParticipantTable[];
  readonly options: ResolvedRun;
  readonly faults: readonly string[];
  readonly actors: readonly string[];
  readonly fairMask: number;
  /** Byte offset of each participant's shared state (-1: never changes). */
  readonly sharedAt: readonly number[];
  readonly budgetAt: Readonly<Record<string, number>>;
  readonly firstBlock: number;
  readonly blockSize: number;
  readonly width: number;
  readonly replies: readonly string[];
  readonly queues: readonly string[];
  readonly allowedTransitions: Readonly<Record<string, readonly string[]>>;
  /** `faultAt`: offset of the input's fault budget byte; -1 when it needs no fault, -2 when its fault is not enabled. */
  readonly envInputs: readonly { k: number; actor: number; fault?: string; faultAt: number }[];
  readonly timerInputs: readonly number[];
  readonly participantActor: readonly number[];
  readonly timerActor: number;
  /** Where the exploration parked and retried replies (system-parking.ts): the exports generate only these. */
  readonly parking = new ParkingLog();
  get parkedSeen(): boolean {
    return this.parking.parked.size > 0;
  }

  /** Input index of the migration (-1 when no migration is checked) and its actor, a fair one. */
  readonly migrateInput: number;
  readonly migratorActor: number;

  constructor(
    readonly definition: SystemDefinition,
    run: SystemRunOptions,
    readonly migration?: MigrationUnderCheck,
  ) {
    const def = definition;
    if (!Number.isInteger(run.keys) || run.keys < 1 || run.keys > 16) throw new ModelOptionsError('orders', `must be an integer from 1 to 16, got ${String(run.keys)}`);
    this.faults = faultsOf(def);
    const faults = Object.fromEntries(this.faults.map((f) => [f, 0])) as Record<string, number>;
    for (const [f, n] of Object.entries(run.faults ?? {})) {
      if (!this.faults.includes(f)) throw new ModelOptionsError('faults', `unknown fault "${f}"; known: ${this.faults.join(', ')}`);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new ModelOptionsError('faults', `budget of ${f} must be an integer from 0 to 100, got ${String(n)}`);
      faults[f] = n;
    }
    const capacity = run.capacity ?? 2 + (faults['dup'] ?? 0) + (faults['crash'] ?? 0) + (faults['timeout'] ?? 0) + (faults['relaycrash'] ?? 0);
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 32) throw new ModelOptionsError('capacity', `must be an integer from 2 to 32, got ${String(capacity)}`);
    this.options = { keys: run.keys, faults, capacity, symmetry: run.symmetry ?? false };

    const names = def.participants.map((p) => p.name);
    const envNames = def.environment.map((e) => e.event);
    const old = migration?.from.machine;
    this.replies = [...new Set([...Object.keys(old?.eventSchemas ?? {}), ...Object.keys(def.machine.eventSchemas)])].filter((e) => !envNames.includes(e));
    const table = buildLocalTable(old ?? def.machine, {
      context: def.context,
      participants: names,
      replies: this.replies,
      environment: envNames,
      route: effectRouter(def),
      ...(def.allowedTransitions ? { allowedTransitions: def.allowedTransitions } : {}),
      ...(migration ? { migration: { to: def.machine, migration: migration.migration } } : {}),
    });
    if (table.snapshots.length > 255) throw new ModelBoundError('local states', 255, 'the machine has more distinct snapshots than fit a byte');
    this.table = table;
    this.allowedTransitions = def.allowedTransitions ?? Object.fromEntries([...adjacency(def.machine)].map(([from, tos]) => [from, [...tos]]));
    this.participants = buildTables(def, table, this.replies);
    this.queues = [...names, 'replies'];

    const fair = [def.orchestrator, ...names];
    const unfair: string[] = [];
    for (const e of def.environment) if (!fair.includes(e.actor) && !unfair.includes(e.actor)) (e.fault ? unfair : fair).push(e.actor);
    // The operator's migration run reaches every instance: a fair actor.
    if (migration) fair.push('migrator');
    this.actors = [...fair, 'timer', ...unfair, 'network', 'crash'];
    if (this.actors.length > 31) throw new ModelBoundError('actors', 31, 'too many actors for the fairness mask');
    this.fairMask = (1 << (fair.length + 1)) - 1;
    const actorIndex = (a: string) => this.actors.indexOf(a);
    this.participantActor = names.map(actorIndex);
    this.timerActor = actorIndex('timer');
    this.migrateInput = table.inputs.findIndex((inp) => inp.kind === 'migrate');
    this.migratorActor = actorIndex('migrator');

    let off = 0;
    this.sharedAt = this.participants.map((_, p) => (def.participants[p] !== undefined && def.initialShared[def.participants[p].name] != null ? off++ : -1));
    const budgetAt: Record<string, number> = {};
    for (const f of this.faults) if ((faults[f] ?? 0) > 0) budgetAt[f] = off++;
    this.budgetAt = budgetAt;
    this.firstBlock = off;
    this.blockSize = 1 + names.length + (names.length + 2) * capacity;
    // Padded to whole 32-bit words: the visited set hashes and compares words.
    this.width = Math.ceil((off + run.keys * this.blockSize) / 4) * 4;
    this.envInputs = def.environment
      .map((e) => ({ k: table.inputIndex('environment', e.event), actor: actorIndex(e.actor), ...(e.fault ? { fault: e.fault } : {}), faultAt: e.fault ? (budgetAt[e.fault] ?? -2) : -1 }))
      .filter((e) => e.k >= 0);
    this.timerInputs = table.inputs.flatMap((inp, k) => (inp.kind === 'timer' ? [k] : []));
  }

  base(key: number): number {
    return this.firstBlock + key * this.blockSize;
  }
  queueOffset(key: number, queue: number): number {
    return this.base(key) + 1 + this.participants.length + queue * this.options.capacity;
  }
  get replyQueue(): number {
    return this.participants.length;
  }
  /** The key's parked replies (reply codes in arrival order, packed to the front). */
  parkedOffset(key: number): number {
    return this.queueOffset(key, this.participants.length + 1);
  }

  /** Parks a reply the key's state cannot take yet. */
  park(t: Uint8Array, key: number, code: number): void {
    this.parking.parked.add((t[this.base(key)] ?? 0) * this.table.inputs.length + code - 1);
    this.push(t, this.parkedOffset(key), code);
  }

  /** A key that is final, quiet and still holds a parked reply: that reply is stranded. */
  stranded(s: Uint8Array): number {
    for (let i = 0; i < this.options.keys; i++) if (s[this.parkedOffset(i)] !== 0 && this.table.final[s[this.base(i)] ?? 0] === 1 && this.quiet(s, i)) return i;
    return -1;
  }

  initial(): Uint8Array {
    const s = new Uint8Array(this.width);
    for (const [f, o] of Object.entries(this.budgetAt)) s[o] = this.options.faults[f] ?? 0;
    // Every key starts in local state 0 everywhere (machine and participants), shared states at code 0, queues empty.
    return s;
  }

  /** Sorts the key blocks so states that differ only by which key is which coincide. */
  canonicalize(s: Uint8Array): void {
    const B = this.blockSize;
    const f = this.firstBlock;
    for (let i = 1; i < this.options.keys; i++) {
      for (let j = i; j > 0; j--) {
        const a = f + (j - 1) * B;
        const b = a + B;
        let d = 0;
        for (let k = 0; k < B && d === 0; k++) d = (s[a + k] as number) - (s[b + k] as number);
        if (d <= 0) break;
        for (let k = 0; k < B; k++) {
          const t = s[a + k] as number;
          s[a + k] = s[b + k] as number;
          s[b + k] = t;
        }
      }
    }
  }

  /**
   * `canonicalize` for a successor of a canonical state by an action on `key`: every
   * action changes only its own key's block (and shared bytes), so the other blocks are
   * still sorted and only this one moves, left or right. The sorted order is unique,
   * so the result is the same bytes as the full sort's; one or two block comparisons
   * instead of keys - 1.
   */
  canonicalizeKey(s: Uint8Array, key: number): void {
    const B = this.blockSize;
    const f = this.firstBlock;
    let j = key;
    while (j > 0 && blockOrder(s, f + (j - 1) * B, f + j * B, B) > 0) {
      swapBlocks(s, f + (j - 1) * B, f + j * B, B);
      j--;
    }
    if (j !== key) return;
    const last = this.options.keys - 1;
    while (j < last && blockOrder(s, f + j * B, f + (j + 1) * B, B) > 0) {
      swapBlocks(s, f + j * B, f + (j + 1) * B, B);
      j++;
    }
  }

  push(t: Uint8Array, q: number, code: number): void {
    const C = this.options.capacity;
    for (let k = 0; k < C; k++) {
      if (t[q + k] === 0) {
        t[q + k] = code;
        return;
      }
    }
    throw new ModelBoundError('queue capacity', C, 'raise --capacity');
  }

  pop(t: Uint8Array, q: number): void {
    const C = this.options.capacity;
    for (let k = 0; k < C - 1; k++) t[q + k] = t[q + k + 1] ?? 0;
    t[q + C - 1] = 0;
  }

  quiet(s: Uint8Array, key: number): boolean {
    const C = this.options.capacity;
    const q0 = this.queueOffset(key, 0);
    for (let q = 0; q <= this.participants.length; q++) if (s[q0 + q * C] !== 0) return false;
    return true;
  }

  qlen(s: Uint8Array, q: number): number {
    let n = 0;
    while (n < this.options.capacity && s[q + n] !== 0) n++;
    return n;
  }

  has(s: Uint8Array, fault: string): boolean {
    const o = this.budgetAt[fault];
    return o !== undefined && (s[o] as number) > 0;
  }
  spend(t: Uint8Array, fault: string): void {
    const o = this.budgetAt[fault] as number;
    t[o] = (t[o] as number) - 1;
  }

  /** Migrates the key by the table's migrate entry: its new local state, the commands an `enter` sends, then its parked replies retried under the new version (as the runtime does). */
  applyMigration(t: Uint8Array, key: number, entry: number): void {
    const origin = t[this.base(key)] ?? 0;
    t[this.base(key)] = this.table.next[entry] ?? 0;
    for (const c of this.table.sends[entry] ?? []) this.push(t, this.queueOffset(key, c.service), c.code);
    if (t[this.parkedOffset(key)] !== 0) retryParked(this, t, key, origin);
  }

  /**
   * Applies the machine's table entry to the key, then its parked replies if its state changed; true when a change
   * left the allowed edges. `published` 2: the relay published the entry's messages twice (relaycrash).
   */
  applyMachine(t: Uint8Array, key: number, entry: number, published = 1): boolean {
    const tab = this.table;
    const b = this.base(key);
    const origin = t[b] ?? 0;
    t[b] = tab.next[entry] ?? 0;
    for (let n = 0; n < published; n++) for (const c of tab.sends[entry] ?? []) this.push(t, this.queueOffset(key, c.service), c.code);
    const invalid = tab.invalid[entry] === 1;
    return tab.names[t[b] ?? 0] !== tab.names[origin] && t[this.parkedOffset(key)] !== 0 ? retryParked(this, t, key, origin) || invalid : invalid;
  }

  /** The entry of participant `p`'s table for command `code` and choice `x` in state `s` (-1: not enabled). */
  entryOf(s: Uint8Array, key: number, p: number, code: number, x: number): number {
    const tab = this.participants[p] as ParticipantTable;
    const at = this.sharedAt[p] as number;
    return tab.entry(s[this.base(key) + 1 + p] as number, at < 0 ? 0 : (s[at] as number), code, x);
  }

  /** Applies participant `p`'s table entry `e` for `key`: its new states, its replies, and the reactions it triggers. */
  applyParticipant(t: Uint8Array, key: number, p: number, e: number): void {
    const tab = this.participants[p] as ParticipantTable;
    t[this.base(key) + 1 + p] = tab.nextLocal[e] as number;
    const at = this.sharedAt[p] as number;
    if (at >= 0) t[at] = tab.nextShared[e] as number;
    const rq = this.queueOffset(key, this.replyQueue);
    for (const r of tab.replies[e] ?? []) this.push(t, rq, r);
    for (const r of tab.reactions[e] ?? []) {
      const re = this.entryOf(t, key, r.participant, r.code, 0);
      if (re >= 0) this.applyParticipant(t, key, r.participant, re);
    }
  }
}

/** Byte order of the blocks at `a` and `b` (negative, 0, positive). */
function blockOrder(s: Uint8Array, a: number, b: number, size: number): number {
  for (let k = 0; k < size; k++) {
    const d = (s[a + k] as number) - (s[b + k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function swapBlocks(s: Uint8Array, a: number, b: number, size: number): void {
  for (let k = 0; k < size; k++) {
    const t = s[a + k] as number;
    s[a + k] = s[b + k] as number;
    s[b + k] = t;
  }
}

/** Tables of every participant, sealed once reactions have added their commands. */
function buildTables(def: SystemDefinition, table: LocalTable, replies: readonly string[]): ParticipantTable[] {
  const names = def.participants.map((p) => p.name);
  const reactions = def.wiring.reactions ?? [];
  for (const r of reactions) if (!names.includes(r.from) || !names.includes(r.to)) throw new ModelOptionsError('wiring', `reaction ${r.from} → ${r.to}: unknown participant`);
  const tables = def.participants.map(
    (p, i) => new ParticipantTable(p, (table.commands[i]?.names ?? []).map((name, k) => ({ name, payload: table.commands[i]?.payloads[k] })), def.initialShared[p.name] ?? null),
  );
  // A reaction's command carries the payload of the first answer that triggers it.
  const reactionCode = new Map<string, number>();
  for (const r of reactions) reactionCode.set(`${r.from}/${r.event}`, (tables[names.indexOf(r.to)] as ParticipantTable).addCommand(r.event, undefined));
  tables.forEach((t, i) =>
    t.seal({
      replyCode: (a) => replies.indexOf(a) + 1,
      reactionsTo: (a) =>
        reactions
          .filter((r) => r.from === names[i] && r.event === a.type)
          .map((r) => {
            const participant = names.indexOf(r.to);
            const code = reactionCode.get(`${r.from}/${r.event}`) ?? 0;
            const q = tables[participant] as ParticipantTable;
            q.payloads[code - 1] ??= a.payload;
            return { participant, code };
          }),
    }),
  );
  return tables;
}
