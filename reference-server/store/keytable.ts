/**
 * A chained hash table from key to value with a per-entry access clock, built on flat arrays: about 32 bytes per
 * key besides the strings themselves (a JS Map costs more, and SCAN needs buckets anyway). SCAN walks buckets with
 * Redis's reverse-binary cursor, so every key present for the whole scan is returned even across resizes.
 */
import type { Value } from './types.js';

const MIN_BUCKETS = 16;
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

/** FNV-1a over the latin1 code units, seeded per process. */
export function hashKey(s: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export class KeyTable {
  keys: (string | undefined)[] = [];
  vals: (Value | undefined)[] = [];
  next = new Int32Array(MIN_BUCKETS);
  access = new Uint32Array(MIN_BUCKETS);
  private buckets = new Int32Array(MIN_BUCKETS).fill(-1);
  private mask = MIN_BUCKETS - 1;
  private freeHead = -1;
  /** Entry slots handed out so far (free ones are threaded through `next`). */
  private used = 0;
  size = 0;

  /** Entry slot of the key, or -1. */
  find(key: string, h: number = hashKey(key)): number {
    let i = this.buckets[h & this.mask];
    while (i !== -1) {
      if (this.keys[i] === key) return i;
      i = this.next[i];
    }
    return -1;
  }

  /** Inserts a key known to be absent; returns its entry slot. */
  insert(key: string, value: Value, clock: number, h: number = hashKey(key)): number {
    let slot: number;
    if (this.freeHead !== -1) {
      slot = this.freeHead;
      this.freeHead = this.next[slot];
      this.keys[slot] = key;
      this.vals[slot] = value;
    } else {
      slot = this.used++;
      if (slot >= this.next.length) this.growEntries();
      this.keys.push(key);
      this.vals.push(value);
    }
    this.access[slot] = clock;
    const b = h & this.mask;
    this.next[slot] = this.buckets[b];
    this.buckets[b] = slot;
    this.size++;
    if (this.size > this.buckets.length) this.rehash(this.buckets.length * 2);
    return slot;
  }

  /** Removes the key; returns false when absent. */
  remove(key: string): boolean {
    const h = hashKey(key);
    const b = h & this.mask;
    let prev = -1;
    let i = this.buckets[b];
    while (i !== -1) {
      if (this.keys[i] === key) {
        if (prev === -1) this.buckets[b] = this.next[i];
        else this.next[prev] = this.next[i];
        this.keys[i] = undefined;
        this.vals[i] = undefined;
        this.next[i] = this.freeHead;
        this.freeHead = i;
        this.size--;
        if (this.size === 0) this.clear();
        else if (this.buckets.length > MIN_BUCKETS && this.size * SHRINK_RATIO < this.buckets.length) {
          this.rehash(this.buckets.length / 2);
        }
        return true;
      }
      prev = i;
      i = this.next[i];
    }
    return false;
  }

  clear(): void {
    this.keys = [];
    this.vals = [];
    this.next = new Int32Array(MIN_BUCKETS);
    this.access = new Uint32Array(MIN_BUCKETS);
    this.buckets = new Int32Array(MIN_BUCKETS).fill(-1);
    this.mask = MIN_BUCKETS - 1;
    this.freeHead = -1;
    this.used = 0;
    this.size = 0;
  }

  private growEntries(): void {
    // 1.5x growth keeps the typed arrays' slack small at a million keys.
    const cap = Math.ceil(this.next.length * 1.5);
    const next = new Int32Array(cap);
    next.set(this.next);
    this.next = next;
    const access = new Uint32Array(cap);
    access.set(this.access);
    this.access = access;
  }

  /** Re-buckets every entry; when shrinking, also packs entry slots (SCAN walks buckets, so slots may move). */
  private rehash(nb: number): void {
    const shrinking = nb < this.buckets.length;
    if (shrinking && this.used > this.size * 2) this.compact();
    this.buckets = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    for (let i = 0; i < this.used; i++) {
      const k = this.keys[i];
      if (k === undefined) continue;
      const b = hashKey(k) & this.mask;
      this.next[i] = this.buckets[b];
      this.buckets[b] = i;
    }
  }

  /** Packs live entries into fresh arrays (iterators over the old arrays stay valid). */
  private compact(): void {
    let cap = MIN_BUCKETS;
    while (cap < this.size * 2) cap *= 2;
    const keys: (string | undefined)[] = [];
    const vals: (Value | undefined)[] = [];
    const access = new Uint32Array(cap);
    let w = 0;
    for (let r = 0; r < this.used; r++) {
      const k = this.keys[r];
      if (k === undefined) continue;
      keys.push(k);
      vals.push(this.vals[r]);
      access[w] = this.access[r];
      w++;
    }
    this.keys = keys;
    this.vals = vals;
    this.access = access;
    this.next = new Int32Array(cap);
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
      for (let i = this.buckets[v & m]; i !== -1; i = this.next[i]) pending.push(this.keys[i] as string);
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
        const k = this.keys[Math.floor(Math.random() * this.used)];
        if (k !== undefined) return k;
      }
    }
    for (;;) {
      let i = this.buckets[Math.floor(Math.random() * this.buckets.length)];
      if (i === -1) continue;
      let len = 0;
      for (let j = i; j !== -1; j = this.next[j]) len++;
      let pick = Math.floor(Math.random() * len);
      while (pick-- > 0) i = this.next[i];
      return this.keys[i];
    }
  }

  /** Keys in slot order; safe against removals during iteration. */
  *iterKeys(): IterableIterator<string> {
    const keys = this.keys;
    const used = this.used;
    for (let i = 0; i < used && i < keys.length; i++) {
      const k = keys[i];
      if (k !== undefined) yield k;
    }
  }
}
