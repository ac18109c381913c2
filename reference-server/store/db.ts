/**
 * One logical database: keys live in stable slots (so SCAN never misses a key that stays for the whole scan),
 * TTLs in a side map (only keys with a TTL pay for it), access times in a typed array (4 bytes per slot).
 */
import type { Db, Value } from './types.js';

export interface DbHooks {
  /** Unix ms; injectable so tests and replicas control time. */
  now(): number;
  /** A replica hides expired keys but never deletes them itself (the master's DEL arrives). */
  isReplica(): boolean;
  /** True while a replica applies its master's stream: expired keys are then fully visible, as in Redis. */
  fromMaster?(): boolean;
  /** The key was removed because it expired (propagate DEL, bump expired_keys). */
  onExpired(db: Db, key: string): void;
  /** The key changed (WATCH). */
  onModified(db: Db, key: string): void;
  /** Called before the whole db is emptied; when absent, onModified runs for every key instead. */
  onFlushed?(db: Db): void;
}

const EMPTY_SCAN_FACTOR = 10;
const SAMPLE = 20;
const ACCESS_BACKDATE_MS = 2 ** 31 * 1000;
const ACCEPTABLE_STALE = 0.1;

export class KeyspaceDb implements Db {
  readonly index: number;
  private readonly hooks: DbHooks;
  private slotOf = new Map<string, number>();
  private slotKeys: (string | undefined)[] = [];
  private slotVals: (Value | undefined)[] = [];
  /** Seconds since `base`, per slot (Redis's LRU clock also has 1 s resolution). */
  private access = new Uint32Array(64);
  private freeSlots: number[] = [];
  private expires = new Map<string, number>();
  private expireCursor: IterableIterator<[string, number]> | undefined;
  private readonly base: number;

  constructor(index: number, hooks: DbHooks) {
    this.index = index;
    this.hooks = hooks;
    // Half the Uint32 range lies before creation, so RESTORE IDLETIME can date keys back up to ~68 years.
    this.base = hooks.now() - ACCESS_BACKDATE_MS;
  }

  private clock(): number {
    const s = Math.floor((this.hooks.now() - this.base) / 1000);
    return s < 0 ? 0 : s;
  }

  /** True when the key must be treated as absent now (expired and not a master stream on a replica). */
  private isExpired(key: string): boolean {
    const at = this.expires.get(key);
    if (at === undefined || at > this.hooks.now()) return false;
    if (this.hooks.isReplica() && this.hooks.fromMaster?.()) return false;
    return true;
  }

  /** Lazy expiry: returns true if the key is (logically) gone. */
  private expireIfNeeded(key: string): boolean {
    if (!this.isExpired(key)) return false;
    if (this.hooks.isReplica()) return true;
    this.removeSlot(key);
    this.hooks.onModified(this, key);
    this.hooks.onExpired(this, key);
    return true;
  }

  private removeSlot(key: string): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    this.slotOf.delete(key);
    this.slotKeys[slot] = undefined;
    this.slotVals[slot] = undefined;
    this.expires.delete(key);
    if (this.slotOf.size === 0) {
      this.slotKeys = [];
      this.slotVals = [];
      this.freeSlots = [];
    } else {
      this.freeSlots.push(slot);
    }
    return true;
  }

  private insert(key: string, value: Value): void {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotKeys.length;
      this.slotKeys.push(key);
      this.slotVals.push(value);
      if (slot >= this.access.length) {
        const grown = new Uint32Array(this.access.length * 2);
        grown.set(this.access);
        this.access = grown;
      }
    } else {
      this.slotKeys[slot] = key;
      this.slotVals[slot] = value;
    }
    this.slotOf.set(key, slot);
    this.access[slot] = this.clock();
  }

  get(key: string): Value | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    this.access[slot] = this.clock();
    return this.slotVals[slot];
  }

  set(key: string, value: Value, keepTtl?: boolean): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) {
      this.insert(key, value);
    } else {
      this.slotVals[slot] = value;
      this.access[slot] = this.clock();
      if (!keepTtl) this.expires.delete(key);
      else if (this.isExpired(key)) this.expires.delete(key);
    }
    this.hooks.onModified(this, key);
  }

  add(key: string, value: Value): void {
    // On a replica an expired key may still be stored physically; overwrite it.
    if (this.slotOf.has(key)) {
      this.set(key, value);
      return;
    }
    this.insert(key, value);
    this.hooks.onModified(this, key);
  }

  delete(key: string): boolean {
    if (!this.slotOf.has(key)) return false;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) {
      // Logically gone already; on a replica the master's DEL removes it physically.
      if (this.hooks.isReplica()) this.removeSlot(key);
      return false;
    }
    this.removeSlot(key);
    this.hooks.onModified(this, key);
    return true;
  }

  has(key: string): boolean {
    if (!this.slotOf.has(key)) return false;
    return !(this.expires.size !== 0 && this.expireIfNeeded(key));
  }

  getExpire(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    return this.expires.get(key);
  }

  setExpire(key: string, atMs: number): void {
    if (!this.slotOf.has(key)) return;
    this.expires.set(key, atMs);
    this.hooks.onModified(this, key);
  }

  persist(key: string): boolean {
    if (!this.has(key)) return false;
    const had = this.expires.delete(key);
    if (had) this.hooks.onModified(this, key);
    return had;
  }

  size(): number {
    return this.slotOf.size;
  }

  expiresCount(): number {
    return this.expires.size;
  }

  avgTtl(): number {
    if (this.expires.size === 0) return 0;
    const now = this.hooks.now();
    let sum = 0;
    let n = 0;
    for (const at of this.expires.values()) {
      if (at > now) {
        sum += at - now;
        n++;
      }
    }
    return n === 0 ? 0 : Math.floor(sum / n);
  }

  *keys(): IterableIterator<string> {
    for (const key of this.slotOf.keys()) {
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) continue;
      yield key;
    }
  }

  scan(cursor: number, count: number, visit: (key: string) => void): number {
    const keys = this.slotKeys;
    let pos = cursor;
    let found = 0;
    let empty = 0;
    const maxEmpty = Math.max(count, 1) * EMPTY_SCAN_FACTOR;
    while (pos < keys.length && found < count && empty < maxEmpty) {
      const key = keys[pos++];
      if (key === undefined) {
        empty++;
        continue;
      }
      found++;
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) continue;
      visit(key);
    }
    return pos >= this.slotKeys.length ? 0 : pos;
  }

  randomKey(): string | undefined {
    for (let tries = 0; tries < 100 && this.slotOf.size > 0; tries++) {
      const key = this.randomSlotKey();
      if (key === undefined) return undefined;
      if (!this.isExpired(key)) return key;
      // Redis returns an expired key on a replica after many tries rather than loop forever; so do we.
      if (this.hooks.isReplica()) {
        if (tries === 99) return key;
        continue;
      }
      this.expireIfNeeded(key);
    }
    return undefined;
  }

  private randomSlotKey(): string | undefined {
    const n = this.slotKeys.length;
    if (this.slotOf.size === 0) return undefined;
    // Dense enough: probe random slots; sparse: pick an ordinal from the index.
    if (this.slotOf.size * 4 >= n) {
      for (;;) {
        const key = this.slotKeys[Math.floor(Math.random() * n)];
        if (key !== undefined) return key;
      }
    }
    let skip = Math.floor(Math.random() * this.slotOf.size);
    for (const key of this.slotOf.keys()) if (skip-- === 0) return key;
    return undefined;
  }

  flush(): void {
    this.signalAll();
    this.clear();
  }

  private signalAll(): void {
    if (this.hooks.onFlushed) this.hooks.onFlushed(this);
    else for (const key of this.slotOf.keys()) this.hooks.onModified(this, key);
  }

  private clear(): void {
    this.slotOf = new Map();
    this.slotKeys = [];
    this.slotVals = [];
    this.freeSlots = [];
    this.access = new Uint32Array(64);
    this.expires = new Map();
    this.expireCursor = undefined;
  }

  /** SWAPDB: exchanges the whole contents of two databases (indexes stay). */
  swapWith(other: KeyspaceDb): void {
    this.signalAll();
    other.signalAll();
    [this.slotOf, other.slotOf] = [other.slotOf, this.slotOf];
    [this.slotKeys, other.slotKeys] = [other.slotKeys, this.slotKeys];
    [this.slotVals, other.slotVals] = [other.slotVals, this.slotVals];
    [this.access, other.access] = [other.access, this.access];
    [this.freeSlots, other.freeSlots] = [other.freeSlots, this.freeSlots];
    [this.expires, other.expires] = [other.expires, this.expires];
    // Access times are relative to each db's base; rebase the swapped arrays.
    const shift = Math.round((this.base - other.base) / 1000);
    if (shift !== 0) {
      for (let i = 0; i < this.slotKeys.length; i++) this.access[i] = Math.max(0, this.access[i] - shift);
      for (let i = 0; i < other.slotKeys.length; i++) other.access[i] = Math.max(0, other.access[i] + shift);
    }
    this.expireCursor = undefined;
    other.expireCursor = undefined;
  }

  lastAccess(key: string): number | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined || (this.expires.size !== 0 && this.expireIfNeeded(key))) return undefined;
    return this.base + this.access[slot] * 1000;
  }

  /** Sets the access time (RESTORE IDLETIME, OBJECT FREQ-less LRU). */
  setLastAccess(key: string, atMs: number): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return;
    this.access[slot] = Math.max(0, Math.floor((atMs - this.base) / 1000));
  }

  signalModified(key: string): void {
    this.hooks.onModified(this, key);
  }

  /**
   * Walks keys with a TTL round-robin in batches of 20, like Redis's sampling loop: keeps going while more than
   * 10% of a batch was expired, up to `budget` removals or one full pass.
   */
  activeExpireCycle(budget: number): number {
    if (this.expires.size === 0 || this.hooks.isReplica()) return 0;
    const now = this.hooks.now();
    let removed = 0;
    let visited = 0;
    const total = this.expires.size;
    for (;;) {
      let sampled = 0;
      let expired = 0;
      const due: string[] = [];
      while (sampled < SAMPLE && visited < total) {
        if (this.expireCursor === undefined) this.expireCursor = this.expires.entries();
        const next = this.expireCursor.next();
        if (next.done) {
          this.expireCursor = undefined;
          if (sampled === 0 && visited === 0) return removed;
          // A full lap ended; a new one starts on the next batch.
          if (sampled === 0) break;
          continue;
        }
        sampled++;
        visited++;
        if (next.value[1] <= now) due.push(next.value[0]);
      }
      for (const key of due) {
        if (removed >= budget) return removed;
        if (this.expireIfNeeded(key)) {
          expired++;
          removed++;
        }
      }
      if (sampled === 0 || visited >= total || expired <= sampled * ACCEPTABLE_STALE) return removed;
    }
  }
}

export function createDb(index: number, hooks: DbHooks): Db {
  return new KeyspaceDb(index, hooks);
}
