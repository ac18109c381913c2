/**
 * maxmemory as Redis 7.0's performEvictions applies it before each command: over the limit, keys are evicted by
 * maxmemory-policy; a command that may grow memory is refused with OOM when nothing (more) can be evicted.
 *
 * Used memory is the figure INFO reports (usedMemory), read before a command while a limit is set (at most every
 * 50 µs; without a limit nothing is read), as Redis checks before every command. V8 frees an
 * evicted key only at its next full collection, so the MEMORY USAGE estimates of the keys evicted since then are
 * subtracted from every sample (otherwise their garbage would make it evict again). It is an estimate: memory can
 * overshoot the limit by what V8 collects late, where Redis, which counts every allocation, stays at it.
 */
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Db, Value } from '../store/types.js';

/** Redis's shared.oomerr. */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

export type EvictionPolicy =
  | 'noeviction' | 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random' | 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl';

/** What eviction needs from the server. */
export interface EvictionHost {
  readonly dbs: readonly Db[];
  /** Replicas with replica-ignore-maxmemory yes leave eviction to their master. */
  ignoresMaxmemory(): boolean;
  /** Removes the key as an eviction: evicted_keys, DEL to replicas, the "evicted" keyspace event. */
  evictKey(db: Db, key: string): void;
  /** Estimated bytes the key and its value take (MEMORY USAGE). */
  sizeOf(key: string, value: Value): number;
}

/**
 * Used memory as INFO's used_memory reports it: V8's heap in use plus memory held outside it (Buffers), leaving out
 * the young generation's small objects: mostly the garbage of recent commands, which would otherwise look like data
 * (what is kept is promoted within two scavenges; a large value is allocated outside it and counts at once).
 */
export function usedMemory(): number {
  let used = getHeapStatistics().external_memory;
  for (const space of getHeapSpaceStatistics()) if (space.space_name !== 'new_space') used += space.space_used_size;
  return used;
}

/** A limit is checked against a reading at most this old (ms): ~1 µs per reading, and a pipeline shares one. */
const SAMPLE_MS = 0.05;

export class MemoryLimit {
  /** maxmemory in bytes, 0 = no limit (the per-command test is this one comparison). */
  limit = 0;
  policy: EvictionPolicy = 'noeviction';
  samples = 5;
  /** Sampled used memory, minus what was evicted since the sample. */
  private estimate = 0;
  private sampledAt = -Infinity;
  /** Rotates the db random policies start from, as Redis's next_db does. */
  private nextDb = 0;
  /** Estimated bytes of the keys evicted since V8's last full collection: still in the heap, as garbage. */
  private evictedSinceGc = 0;
  private gcWatch: PerformanceObserver | null = null;

  constructor(private readonly host: EvictionHost, private readonly measure: () => number = usedMemory) {}

  /** Applies maxmemory settings; full collections are watched only while a policy may evict. */
  configure(limit: number, policy: EvictionPolicy, samples: number): void {
    this.limit = limit;
    this.policy = policy;
    this.samples = samples;
    const watch = limit > 0 && policy !== 'noeviction';
    if (watch && this.gcWatch === null) {
      this.gcWatch = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.evictedSinceGc = 0;
        }
      });
      this.gcWatch.observe({ entryTypes: ['gc'] });
    } else if (!watch && this.gcWatch !== null) {
      this.gcWatch.disconnect();
      this.gcWatch = null;
    }
    this.evictedSinceGc = 0;
    this.sample();
  }

  /** Reads used memory again (before a command, CONFIG SET maxmemory). */
  sample(): void {
    if (this.limit === 0) return;
    this.sampledAt = performance.now();
    this.estimate = Math.max(0, this.measure() - this.evictedSinceGc);
  }

  /** Stops watching collections (server shutdown). */
  close(): void {
    this.gcWatch?.disconnect();
    this.gcWatch = null;
  }

  /** Used memory as last sampled and adjusted for evictions. */
  get used(): number {
    return this.estimate;
  }

  /** performEvictions: true when memory is within the limit (after evicting if the policy allows), false = OOM. */
  ensure(): boolean {
    if (performance.now() - this.sampledAt >= SAMPLE_MS) this.sample();
    if (this.estimate <= this.limit || this.host.ignoresMaxmemory()) return true;
    if (this.policy === 'noeviction') return false;
    while (this.estimate > this.limit) {
      const victim = this.pickVictim();
      if (victim === null) return false;
      const value = victim.db.get(victim.key);
      const size = value === undefined ? 0 : this.host.sizeOf(victim.key, value);
      this.host.evictKey(victim.db, victim.key);
      // Every eviction frees something, even when its estimate is small: the loop always ends.
      const freed = Math.max(size, 64);
      this.estimate -= freed;
      this.evictedSinceGc += freed;
    }
    return true;
  }

  private pickVictim(): { db: Db; key: string } | null {
    const dbs = this.host.dbs;
    const volatile = this.policy.startsWith('volatile-');
    if (this.policy.endsWith('-random')) {
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[(this.nextDb = (this.nextDb + 1) % dbs.length)]!;
        const key = volatile ? db.sampleVolatile(1)[0] : db.size() > 0 ? db.randomKey() : undefined;
        if (key !== undefined) return { db, key };
      }
      return null;
    }
    // The LRU, LFU and TTL policies: the best of `samples` random keys per db (LFU ranks by idle time too: the
    // reference server keeps no access-frequency counter).
    let best: { db: Db; key: string; score: number } | null = null;
    for (const db of dbs) {
      if (db.size() === 0 || (volatile && db.expiresCount() === 0)) continue;
      const keys = volatile ? db.sampleVolatile(this.samples) : Array.from({ length: this.samples }, () => db.randomKey());
      for (const key of keys) {
        if (key === undefined) break;
        // Higher score = better victim: older access, or (volatile-ttl) sooner expiry.
        const score = this.policy === 'volatile-ttl' ? -(db.getExpire(key) ?? Infinity) : -(db.lastAccess(key) ?? 0);
        if (best === null || score > best.score) best = { db, key, score };
      }
    }
    return best === null ? null : { db: best.db, key: best.key };
  }
}
