/**
 * One logical database: keys and values in a flat-array hash table (store/keytable.ts) whose bucket-walking SCAN
 * never misses a key that stays for the whole scan; TTLs in a side map (only keys with a TTL pay for it).
 */
import type { Db, Value } from './types.js';
import { KeyTable, hashKey } from './keytable.js';
import { SortedSet } from './zset.js';
import type { EncodingLimits } from './limits.js';

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
  /** Called before SWAPDB exchanges this db's contents with other's; when absent, both are signalled as flushed. */
  onSwapping?(db: Db, other: Db): void;
  /** The owning server's encoding limits: a sorted set stored here (RESTORE, RDB load, COPY) converts by them. */
  limits?: Readonly<EncodingLimits>;
}

/** Callbacks for keys that start or stop existing physically (expired keys count until removed). */
export interface KeyEvents {
  added(db: Db, key: string): void;
  removed(db: Db, key: string): void;
}

const SAMPLE = 20;
const ACCESS_BACKDATE_MS = 2 ** 31 * 1000;
const ACCEPTABLE_STALE = 0.1;

export class KeyspaceDb implements Db {
  readonly index: number;
  private readonly hooks: DbHooks;
  private table = new KeyTable();
  private expires = new Map<string, number>();
  private expireCursor: IterableIterator<[string, number]> | undefined;
  /** Where sampleVolatile continues (eviction walks the keys with a TTL in turn). */
  private volatileCursor: IterableIterator<string> | undefined;
  /** Strings whose Redis encoding depends on history (APPEND/SETRANGE make raw, INCRBYFLOAT embstr). */
  private forcedEnc: Map<string, 'raw' | 'embstr'> | undefined;
  private readonly base: number;
  /** The "new" keyspace event (dbAdd's); set by the server only while that class is enabled. */
  onNewKey: ((db: Db, key: string) => void) | null = null;
  /** Keys coming into and going out of existence; set by the server only when a mode asks (Cluster's slot index). */
  keyEvents: KeyEvents | null = null;

  constructor(index: number, hooks: DbHooks) {
    this.index = index;
    this.hooks = hooks;
    // Half the Uint32 range lies before creation, so RESTORE IDLETIME can date keys back up to ~68 years.
    this.base = hooks.now() - ACCESS_BACKDATE_MS;
  }

  /** Seconds since `base` (Redis's LRU clock also has 1 s resolution). */
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
    this.removeKey(key);
    this.hooks.onModified(this, key);
    this.hooks.onExpired(this, key);
    return true;
  }

  private removeKey(key: string): boolean {
    if (!this.table.remove(key)) return false;
    this.expires.delete(key);
    this.forcedEnc?.delete(key);
    if (this.keyEvents !== null) this.keyEvents.removed(this, key);
    return true;
  }

  /** Entry slot of a live key (expiring it first if due), or -1. */
  private live(key: string): number {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return -1;
    return this.table.find(key);
  }

  /** Like get, but leaves the access time alone (Redis's LOOKUP_NOTOUCH: TYPE, TTL, EXISTS, OBJECT). */
  peek(key: string): Value | undefined {
    const slot = this.live(key);
    return slot === -1 ? undefined : this.table.valAt(slot);
  }

  get(key: string): Value | undefined {
    const slot = this.live(key);
    if (slot === -1) return undefined;
    this.table.setAccess(slot, this.clock());
    return this.table.valAt(slot);
  }

  set(key: string, value: Value, keepTtl?: boolean): void {
    if (typeof value === 'object' && value instanceof SortedSet) this.adoptLimits(value);
    const h = hashKey(key);
    const slot = this.table.find(key, h);
    if (slot === -1) {
      this.table.insert(key, value, this.clock(), h);
      if (this.keyEvents !== null) this.keyEvents.added(this, key);
      if (this.onNewKey !== null) this.onNewKey(this, key);
    } else {
      this.table.setVal(slot, value);
      this.table.setAccess(slot, this.clock());
      this.forcedEnc?.delete(key);
      if (this.expires.size !== 0 && (!keepTtl || this.isExpired(key))) this.expires.delete(key);
    }
    this.hooks.onModified(this, key);
  }

  add(key: string, value: Value): void {
    // On a replica an expired key may still be stored physically; overwrite it.
    if (this.table.find(key) !== -1) {
      this.set(key, value);
      return;
    }
    if (typeof value === 'object' && value instanceof SortedSet) this.adoptLimits(value);
    this.table.insert(key, value, this.clock());
    if (this.keyEvents !== null) this.keyEvents.added(this, key);
    if (this.onNewKey !== null) this.onNewKey(this, key);
    this.hooks.onModified(this, key);
  }

  private adoptLimits(z: SortedSet): void {
    const limits = this.hooks.limits;
    if (limits !== undefined && z.limits !== limits) z.limits = limits;
  }

  delete(key: string): boolean {
    if (this.table.find(key) === -1) return false;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) {
      // Logically gone already; on a replica the master's DEL removes it physically.
      if (this.hooks.isReplica()) this.removeKey(key);
      return false;
    }
    this.removeKey(key);
    this.hooks.onModified(this, key);
    return true;
  }

  has(key: string): boolean {
    return this.live(key) !== -1;
  }

  getExpire(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    return this.expires.get(key);
  }

  setExpire(key: string, atMs: number): void {
    if (this.table.find(key) === -1) return;
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
    return this.table.size;
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

  /** Every stored key with its value and expiry, expired ones included, never touched nor deleted (rdbSaveDb). */
  *stored(): IterableIterator<[string, Value, number | undefined]> {
    for (const key of this.table.iterKeys()) {
      const v = this.table.valAt(this.table.find(key));
      if (v !== undefined) yield [key, v, this.expires.get(key)];
    }
  }

  *keys(): IterableIterator<string> {
    for (const key of this.table.iterKeys()) {
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) continue;
      yield key;
    }
  }

  scan(cursor: number, count: number, visit: (key: string) => void): number {
    return this.table.scan(cursor, count, (key) => {
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) return;
      visit(key);
    });
  }

  randomKey(): string | undefined {
    for (let tries = 0; tries < 100 && this.table.size > 0; tries++) {
      const key = this.table.randomKey();
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

  /** Physically stored, expired or not (Redis's dictFind); never deletes. */
  stores(key: string): boolean {
    return this.table.find(key) !== -1;
  }

  /** Stored but past its expiry (Redis's keyIsExpired); never deletes. */
  isStale(key: string): boolean {
    return this.table.find(key) !== -1 && this.isExpired(key);
  }

  flush(): void {
    this.signalAll();
    this.announceAll('removed');
    this.table = new KeyTable();
    this.expires = new Map();
    this.expireCursor = undefined;
    this.forcedEnc = undefined;
  }

  /** Records a string encoding Redis would report that the value alone does not tell (cleared by any set). */
  setStringEncoding(key: string, enc: 'raw' | 'embstr' | undefined): void {
    if (enc === undefined) this.forcedEnc?.delete(key);
    else (this.forcedEnc ??= new Map()).set(key, enc);
  }

  stringEncoding(key: string): 'raw' | 'embstr' | undefined {
    return this.forcedEnc?.get(key);
  }

  private signalAll(): void {
    if (this.hooks.onFlushed) this.hooks.onFlushed(this);
    else for (const key of this.table.iterKeys()) this.hooks.onModified(this, key);
  }

  /** Tells keyEvents that every stored key was removed from (or added to) this db. */
  private announceAll(what: 'added' | 'removed'): void {
    const events = this.keyEvents;
    if (events === null) return;
    for (const key of [...this.table.iterKeys()]) events[what](this, key);
  }

  /** SWAPDB: exchanges the whole contents of two databases (indexes stay). */
  swapWith(other: KeyspaceDb): void {
    if (this.hooks.onSwapping) this.hooks.onSwapping(this, other);
    else {
      this.signalAll();
      other.signalAll();
    }
    this.announceAll('removed');
    other.announceAll('removed');
    [this.table, other.table] = [other.table, this.table];
    [this.expires, other.expires] = [other.expires, this.expires];
    [this.forcedEnc, other.forcedEnc] = [other.forcedEnc, this.forcedEnc];
    // Access times are relative to each db's base; rebase the swapped tables.
    const shift = Math.round((this.base - other.base) / 1000);
    if (shift !== 0) {
      this.table.shiftAccess(-shift);
      other.table.shiftAccess(shift);
    }
    this.expireCursor = undefined;
    other.expireCursor = undefined;
    this.volatileCursor = undefined;
    other.volatileCursor = undefined;
    this.announceAll('added');
    other.announceAll('added');
  }

  lastAccess(key: string): number | undefined {
    const slot = this.live(key);
    if (slot === -1) return undefined;
    return this.base + this.table.accessAt(slot) * 1000;
  }

  /** Sets the access time (RESTORE IDLETIME). */
  setLastAccess(key: string, atMs: number): void {
    const slot = this.table.find(key);
    if (slot === -1) return;
    this.table.setAccess(slot, Math.max(0, Math.floor((atMs - this.base) / 1000)));
  }

  signalModified(key: string): void {
    this.hooks.onModified(this, key);
  }

  sampleVolatile(n: number): string[] {
    const out: string[] = [];
    const want = Math.min(n, this.expires.size);
    let restarts = 0;
    while (out.length < want) {
      if (this.volatileCursor === undefined) this.volatileCursor = this.expires.keys();
      const next = this.volatileCursor.next();
      if (next.done) {
        this.volatileCursor = undefined;
        if (++restarts > 1) break;
        continue;
      }
      out.push(next.value);
    }
    return out;
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
