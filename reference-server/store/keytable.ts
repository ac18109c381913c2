/**
 * A chained hash table from key to value with a per-entry access clock, built on arrays: about 28 bytes per
 * key besides the strings themselves (a JS Map costs more, and SCAN needs buckets anyway). SCAN walks buckets with
 * Redis's reverse-binary cursor, so every key present for the whole scan is returned even across resizes.
 * Entries live in fixed-size chunks, so growing never copies (no garbage, little slack at millions of keys).
 */
import type { Value } from './types.js';

const MIN_BUCKETS = 16;
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** Redis shrinks a dict when it is less than 10% full; we relink (and compact) below 1/8. */
const SHRINK_RATIO = 8;

/** Byte-reversal of a 32-bit unsigned integer's bits. */
function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

const SEED = (Math.random() * 0x7fffffff) | 0;

/** The last key hashed: a command looks its key up more than once, and clients repeat keys (same string object). */
let lastKey = '';
let lastHash = 0;

/** FNV-1a over the latin1 code units, seeded per process. */
export function hashKey(s: string): number {
  if (s === lastKey) return lastHash;
  lastKey = s;
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  lastHash = h | 0;
  return lastHash;
}

export class KeyTable {
  private kc: (string | undefined)[][] = [];
  private vc: (Value | undefined)[][] = [];
  private nc: Int32Array[] = [];
  private ac: Uint32Array[] = [];
  private buckets = new Int32Array(MIN_BUCKETS).fill(-1);
  private mask = MIN_BUCKETS - 1;
  private freeHead = -1;
  /** Entry slots handed out so far (free ones are threaded through `next`). */
  private used = 0;
  size = 0;

  keyAt(slot: number): string | undefined {
    return this.kc[slot >> CHUNK_BITS][slot & CHUNK_MASK];
  }

  valAt(slot: number): Value | undefined {
    return this.vc[slot >> CHUNK_BITS][slot & CHUNK_MASK];
  }

  setVal(slot: number, v: Value): void {
    this.vc[slot >> CHUNK_BITS][slot & CHUNK_MASK] = v;
  }

  accessAt(slot: number): number {
    return this.ac[slot >> CHUNK_BITS][slot & CHUNK_MASK];
  }

  setAccess(slot: number, clock: number): void {
    this.ac[slot >> CHUNK_BITS][slot & CHUNK_MASK] = clock;
  }

  /** Adds `delta` seconds to every access clock, clamped at 0 (SWAPDB rebasing). */
  shiftAccess(delta: number): void {
    for (const a of this.ac) for (let i = 0; i < a.length; i++) a[i] = Math.max(0, a[i] + delta);
  }

  private nextAt(slot: number): number {
    return this.nc[slot >> CHUNK_BITS][slot & CHUNK_MASK];
  }

  private setNext(slot: number, n: number): void {
    this.nc[slot >> CHUNK_BITS][slot & CHUNK_MASK] = n;
  }

  /** Entry slot of the key, or -1. */
  find(key: string, h: number = hashKey(key)): number {
    let i = this.buckets[h & this.mask];
    while (i !== -1) {
      const c = i >> CHUNK_BITS;
      const o = i & CHUNK_MASK;
      if (this.kc[c][o] === key) return i;
      i = this.nc[c][o];
    }
    return -1;
  }

  /** Inserts a key known to be absent; returns its entry slot. */
  insert(key: string, value: Value, clock: number, h: number = hashKey(key)): number {
    let slot: number;
    if (this.freeHead !== -1) {
      slot = this.freeHead;
      this.freeHead = this.nextAt(slot);
    } else {
      slot = this.used++;
      this.ensureSlot(slot);
    }
    const c = slot >> CHUNK_BITS;
    const o = slot & CHUNK_MASK;
    this.kc[c][o] = key;
    this.vc[c][o] = value;
    this.ac[c][o] = clock;
    const b = h & this.mask;
    this.nc[c][o] = this.buckets[b];
    this.buckets[b] = slot;
    this.size++;
    if (this.size > this.buckets.length) this.rehash(this.buckets.length * 2);
    return slot;
  }

  /** Makes room for entry `slot` (the next unused one): the first chunk grows by doubling, later ones are full-size. */
  private ensureSlot(slot: number): void {
    const c = slot >> CHUNK_BITS;
    if (c === this.kc.length) {
      const n = c === 0 ? MIN_BUCKETS : CHUNK;
      this.kc.push(new Array<string | undefined>(n).fill(undefined));
      this.vc.push(new Array<Value | undefined>(n).fill(undefined));
      this.nc.push(new Int32Array(n));
      this.ac.push(new Uint32Array(n));
    } else if (c === 0 && slot >= this.kc[0].length) {
      // Small tables stay small: chunk 0 doubles up to full size.
      const n = Math.min(CHUNK, this.kc[0].length * 2);
      const k = this.kc[0].slice();
      const v = this.vc[0].slice();
      k.length = n;
      v.length = n;
      this.kc[0] = k.fill(undefined, slot);
      this.vc[0] = v.fill(undefined, slot);
      const nx = new Int32Array(n);
      nx.set(this.nc[0]);
      this.nc[0] = nx;
      const a = new Uint32Array(n);
      a.set(this.ac[0]);
      this.ac[0] = a;
    }
  }

  /** Removes the key; returns false when absent. */
  remove(key: string): boolean {
    const h = hashKey(key);
    const b = h & this.mask;
    let prev = -1;
    let i = this.buckets[b];
    while (i !== -1) {
      if (this.keyAt(i) === key) {
        if (prev === -1) this.buckets[b] = this.nextAt(i);
        else this.setNext(prev, this.nextAt(i));
        const c = i >> CHUNK_BITS;
        const o = i & CHUNK_MASK;
        this.kc[c][o] = undefined;
        this.vc[c][o] = undefined;
        this.nc[c][o] = this.freeHead;
        this.freeHead = i;
        this.size--;
        if (this.size === 0) this.clear();
        else if (this.buckets.length > MIN_BUCKETS && this.size * SHRINK_RATIO < this.buckets.length) {
          this.rehash(this.buckets.length / 2);
        }
        return true;
      }
      prev = i;
      i = this.nextAt(i);
    }
    return false;
  }

  clear(): void {
    this.kc = [];
    this.vc = [];
    this.nc = [];
    this.ac = [];
    this.buckets = new Int32Array(MIN_BUCKETS).fill(-1);
    this.mask = MIN_BUCKETS - 1;
    this.freeHead = -1;
    this.used = 0;
    this.size = 0;
  }

  /** Re-buckets every entry; when shrinking, also packs entry slots (SCAN walks buckets, so slots may move). */
  private rehash(nb: number): void {
    const shrinking = nb < this.buckets.length;
    if (shrinking && this.used > this.size * 2) this.compact();
    this.buckets = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    for (let i = 0; i < this.used; i++) {
      const k = this.keyAt(i);
      if (k === undefined) continue;
      const b = hashKey(k) & this.mask;
      this.setNext(i, this.buckets[b]);
      this.buckets[b] = i;
    }
  }

  /** Packs live entries into fresh chunks (iterators over the old chunks stay valid). */
  private compact(): void {
    const kc = this.kc;
    const vc = this.vc;
    const ac = this.ac;
    const used = this.used;
    this.kc = [];
    this.vc = [];
    this.nc = [];
    this.ac = [];
    let w = 0;
    for (let r = 0; r < used; r++) {
      const c = r >> CHUNK_BITS;
      const o = r & CHUNK_MASK;
      const k = kc[c][o];
      if (k === undefined) continue;
      this.ensureSlot(w);
      const wc = w >> CHUNK_BITS;
      const wo = w & CHUNK_MASK;
      this.kc[wc][wo] = k;
      this.vc[wc][wo] = vc[c][o];
      this.ac[wc][wo] = ac[c][o];
      w++;
    }
    this.used = w;
    this.freeHead = -1;
  }

  /**
   * One SCAN step from `cursor`: visits whole buckets until `count` keys or 10*count empty buckets were seen.
   * Returns the next cursor, 0 when done.
   */
  scan(cursor: number, count: number, visit: (key: string) => void): number {
    if (this.size === 0) return 0;
    let v = cursor >>> 0;
    let seen = 0;
    let budget = Math.max(count, 1) * 10;
    const pending: string[] = [];
    do {
      const m = this.mask;
      for (let i = this.buckets[v & m]; i !== -1; i = this.nextAt(i)) pending.push(this.keyAt(i) as string);
      seen = pending.length;
      v = (v | ~m) >>> 0;
      v = rev32(v);
      v = (v + 1) >>> 0;
      v = rev32(v);
    } while (v !== 0 && budget-- > 0 && seen < count);
    // Callbacks run after the walk: they may expire (remove) keys.
    for (const k of pending) visit(k);
    return v;
  }

  /** A uniformly random slot's key (dense table) or a random bucket's chain member. */
  randomKey(): string | undefined {
    if (this.size === 0) return undefined;
    if (this.size * 4 >= this.used) {
      for (;;) {
        const k = this.keyAt(Math.floor(Math.random() * this.used));
        if (k !== undefined) return k;
      }
    }
    for (;;) {
      let i = this.buckets[Math.floor(Math.random() * this.buckets.length)];
      if (i === -1) continue;
      let len = 0;
      for (let j = i; j !== -1; j = this.nextAt(j)) len++;
      let pick = Math.floor(Math.random() * len);
      while (pick-- > 0) i = this.nextAt(i);
      return this.keyAt(i);
    }
  }

  /** Keys in slot order; safe against removals during iteration. */
  *iterKeys(): IterableIterator<string> {
    const kc = this.kc;
    const used = this.used;
    for (let i = 0; i < used && i >> CHUNK_BITS < kc.length; i++) {
      const k = kc[i >> CHUNK_BITS][i & CHUNK_MASK];
      if (k !== undefined) yield k;
    }
  }
}
