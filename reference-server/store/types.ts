/**
 * Value types of the keyspace. Strings (keys, values, members, fields) are latin1 JS strings:
 * one char per byte, so binary-safe and compact (V8 one-byte strings).
 * RList and RZSet are implemented in store/list.ts and store/zset.ts (createList / createZSet).
 */

export type RString = string;

/** A quicklist-like deque of elements. */
export interface RList extends Iterable<string> {
  readonly kind: 'list';
  readonly length: number;
  pushHead(v: string): void;
  pushTail(v: string): void;
  popHead(): string | undefined;
  popTail(): string | undefined;
  /** Negative indexes count from the tail, as LINDEX does. */
  at(index: number): string | undefined;
  set(index: number, v: string): boolean;
  /** Elements [start, stop] inclusive, already-normalised non-negative indexes. */
  range(start: number, stop: number): string[];
}

/** A sorted set: member -> score, ordered by (score, member bytes). */
export interface RZSet {
  readonly kind: 'zset';
  readonly size: number;
  score(member: string): number | undefined;
  /** Adds or updates; returns true when the member is new. */
  add(member: string, score: number): boolean;
  remove(member: string): boolean;
  /** 0-based rank in ascending order, or undefined. */
  rank(member: string): number | undefined;
  /** Ascending by (score, member). */
  entries(): IterableIterator<[member: string, score: number]>;
}
export type RHash = Map<string, string>;
export type RSet = Set<string>;
export type Value = RString | RList | RHash | RSet | RZSet;
export type TypeName = 'string' | 'list' | 'hash' | 'set' | 'zset';

/** One logical database (SELECT n). Expiry is hidden behind it: reads never see an expired key. */
export interface Db {
  readonly index: number;
  /** Value or undefined; an expired key is removed (on a master) or hidden (on a replica) here. */
  get(key: string): Value | undefined;
  /** Stores a value; clears the TTL unless keepTtl. Signals the key as modified. */
  set(key: string, value: Value, keepTtl?: boolean): void;
  /** Adds a key that must not exist yet (fast path for creating collections); keeps no TTL. */
  add(key: string, value: Value): void;
  delete(key: string): boolean;
  has(key: string): boolean;
  /** Absolute expiry in unix ms, or undefined for no TTL. */
  getExpire(key: string): number | undefined;
  setExpire(key: string, atMs: number): void;
  persist(key: string): boolean;
  size(): number;
  expiresCount(): number;
  /** Sum of (expire - now) over keys with a TTL, for INFO keyspace avg_ttl. */
  avgTtl(): number;
  keys(): IterableIterator<string>;
  /** Redis-style reverse-binary cursor scan; returns next cursor (0 = done). */
  scan(cursor: number, count: number, visit: (key: string) => void): number;
  randomKey(): string | undefined;
  /**
   * Up to n keys that have a TTL, continuing where the previous call stopped, so every such key is reached in turn
   * (the volatile eviction policies: random draws over all keys can miss a few TTL keys among many).
   */
  sampleVolatile(n: number): string[];
  flush(): void;
  /** Last access time (ms) for OBJECT IDLETIME; touched by get/set. */
  lastAccess(key: string): number | undefined;
  /** Must be called after a command mutates a value in place (WATCH, blocking wake-ups). */
  signalModified(key: string): void;
  /** Active-expiry step: removes up to `budget` expired keys, returns how many. */
  activeExpireCycle(budget: number): number;
}

export function typeOf(v: Value): TypeName {
  if (typeof v === 'string') return 'string';
  if (v instanceof Map) return 'hash';
  if (v instanceof Set) return 'set';
  return v.kind;
}
