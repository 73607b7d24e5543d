import { ModelBoundError } from './errors.js';

/**
 * The visited set: fixed-width packed states in one growing arena of 32-bit
 * words, found through an open-addressing hash table of ids. No object per
 * state, so tens of millions of states fit; the id is the discovery order (BFS
 * order when the caller expands ids in order). Width is in bytes and must be a
 * multiple of 4 (models pad their vectors with zero bytes).
 */
export class StateStore {
  private arena: Int32Array;
  private arenaBytes: Uint8Array;
  /** Pairs [hash, id + 1] (0 = empty slot): a probe touches one cache line, not the arena. */
  private table: Int32Array;
  private mask: number;
  private readonly words: number;
  count = 0;
  /** Whether the last `intern` added a state. */
  lastWasNew = false;

  constructor(
    readonly width: number,
    private readonly maxStates = 100_000_000,
  ) {
    if (width % 4 !== 0 || width <= 0) throw new RangeError(`state width ${width} must be a positive multiple of 4`);
    this.words = width / 4;
    this.arena = new Int32Array(this.words * 4096);
    this.arenaBytes = new Uint8Array(this.arena.buffer);
    this.table = new Int32Array(2 * 8192);
    this.mask = 8191;
  }

  static hash(v: Int32Array, words: number): number {
    let h = 0x9747b28c | 0;
    for (let i = 0; i < words; i++) {
      let k = Math.imul(v[i] ?? 0, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h;
  }

  /** The id of the state in `v` (its first width/4 words), adding it if new (`lastWasNew` tells which). */
  intern(v: Int32Array): number {
    const w = this.words;
    const h = StateStore.hash(v, w);
    const arena = this.arena;
    const table = this.table;
    let slot = h & this.mask;
    for (;;) {
      const stored = table[2 * slot + 1] ?? 0;
      if (stored === 0) break;
      if (table[2 * slot] === h) {
        const base = (stored - 1) * w;
        let i = 0;
        while (i < w && arena[base + i] === v[i]) i++;
        if (i === w) {
          this.lastWasNew = false;
          return stored - 1;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.count;
    if (id >= this.maxStates) throw new ModelBoundError('maxStates', this.maxStates, 'raise maxStates, lower --orders or the fault budgets, or use --symmetry');
    if ((id + 1) * w > this.arena.length) this.grow();
    for (let i = 0, base = id * w; i < w; i++) this.arena[base + i] = v[i] as number;
    table[2 * slot] = h;
    table[2 * slot + 1] = id + 1;
    this.count = id + 1;
    if (this.count * 2 > this.mask) this.rehash();
    this.lastWasNew = true;
    return id;
  }

  /** Copies state `id` into `out` (bytes). */
  read(id: number, out: Uint8Array): Uint8Array {
    out.set(this.arenaBytes.subarray(id * this.width, (id + 1) * this.width));
    return out;
  }

  /** Copies state `id` into `out` (words: faster than bytes). */
  readWords(id: number, out: Int32Array): void {
    const w = this.words;
    const arena = this.arena;
    for (let i = 0, base = id * w; i < w; i++) out[i] = arena[base + i] as number;
  }

  /** Every stored state's bytes, state `id` at `id * width` (valid until the next `intern` that grows the arena). */
  get bytes(): Uint8Array {
    return this.arenaBytes;
  }

  view(id: number): Uint8Array {
    return this.arenaBytes.subarray(id * this.width, (id + 1) * this.width);
  }

  private grow(): void {
    const next = new Int32Array(this.arena.length * 2);
    next.set(this.arena);
    this.arena = next;
    this.arenaBytes = new Uint8Array(next.buffer);
  }

  private rehash(): void {
    const old = this.table;
    const size = (old.length / 2) * 2;
    const table = new Int32Array(2 * size);
    const mask = size - 1;
    for (let k = 0; k < old.length; k += 2) {
      const stored = old[k + 1] ?? 0;
      if (stored === 0) continue;
      const h = old[k] ?? 0;
      let slot = h & mask;
      while ((table[2 * slot + 1] ?? 0) !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = h;
      table[2 * slot + 1] = stored;
    }
    this.table = table;
    this.mask = mask;
  }
}

/** A growable Int32 column (parents, actions, edges) without per-element objects. */
export class IntColumn {
  data: Int32Array;
  length = 0;
  constructor(initial = 1024) {
    this.data = new Int32Array(initial);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i] ?? 0;
  }
}
