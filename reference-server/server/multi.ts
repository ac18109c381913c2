/**
 * MULTI/EXEC and WATCH (Redis's multi.c): the watched-key table, touching it when keys change, and EXEC running its
 * queue as one execution unit.
 */
import type { Db } from '../commands/command.js';
import type { Client } from './connection.js';
import { KeyspaceDb } from '../store/db.js';
import type { RedisServer } from './server.js';

export class Transactions {
  /** "db\0key" -> clients watching it. */
  private readonly watchedKeys = new Map<string, Set<Client>>();
  /** Per client, the watched "db\0key"s that were already expired when WATCHed (Redis's watchedKey.expired). */
  private readonly staleWatches = new Map<Client, Set<string>>();
  /** True while EXEC runs its queue: a blocking command inside it answers as if timed out. */
  inExec = false;

  constructor(private readonly server: RedisServer) {}

  /** EXEC: runs the queue as one unit (one propagated MULTI/EXEC block). */
  exec(c: Client): void {
    const queue = c.multiQueue;
    c.multiQueue = [];
    c.inMulti = false;
    if (c.multiError) {
      c.multiError = false;
      this.unwatchAll(c);
      c.reply.error('EXECABORT Transaction discarded because of previous errors.');
      return;
    }
    if (c.dirtyCas || (c.watched.size > 0 && this.watchedKeyExpired(c))) {
      this.unwatchAll(c);
      c.reply.nullArray();
      return;
    }
    this.unwatchAll(c);
    c.reply.arrayHeader(queue.length);
    this.inExec = true;
    try {
      // No refusals here: Redis checks the queue's writes once, at EXEC (a REPLICAOF inside it does not stop later writes).
      const access = this.server.access;
      for (const q of queue) {
        // Permissions are checked again at EXEC, in case they changed while the commands were queued.
        const denied = access.check?.(c, q.spec, q.argv, true);
        if (denied !== undefined) c.reply.error(denied);
        else this.server.dispatcher.call(c, q.spec, q.argv);
      }
    } finally {
      this.inExec = false;
    }
  }

  discard(c: Client): void {
    c.multiQueue = [];
    c.inMulti = false;
    c.multiError = false;
    this.unwatchAll(c);
  }

  watch(c: Client, key: string): void {
    const k = c.dbIndex + '\0' + key;
    if (c.watched.has(k)) return;
    c.watched.add(k);
    if (this.staleIn(c.dbIndex, key)) this.staleWatchesOf(c).add(k);
    let set = this.watchedKeys.get(k);
    if (!set) {
      set = new Set();
      this.watchedKeys.set(k, set);
    }
    set.add(c);
  }

  unwatchAll(c: Client): void {
    for (const k of c.watched) {
      const set = this.watchedKeys.get(k);
      if (set) {
        set.delete(c);
        if (set.size === 0) this.watchedKeys.delete(k);
      }
    }
    c.watched.clear();
    this.staleWatches.delete(c);
    c.dirtyCas = false;
  }

  /** A key changed: its watchers' transactions will fail (Redis's touchWatchedKey). */
  touch(dbIndex: number, key: string): void {
    if (this.watchedKeys.size === 0) return;
    const k = dbIndex + '\0' + key;
    const set = this.watchedKeys.get(k);
    if (!set) return;
    for (const cl of set) {
      const stale = this.staleWatches.get(cl);
      if (stale !== undefined && stale.has(k)) {
        // Watched already expired: its deletion is no logical change. Redis 7.0 (touchWatchedKey) stops at
        // such a watcher when the key is written instead, leaving it and later watchers clean; so do we.
        if (!this.storedIn(dbIndex, key)) {
          stale.delete(k);
          continue;
        }
        break;
      }
      cl.dirtyCas = true;
    }
  }

  /** FLUSHDB/FLUSHALL (replacedWith null) or SWAPDB: watchers of keys the db held are invalidated (touchAllWatchedKeysInDb). */
  touchAll(emptied: number, replacedWith: number | null): void {
    if (this.watchedKeys.size === 0) return;
    const prefix = emptied + '\0';
    for (const [k, set] of this.watchedKeys) {
      if (!k.startsWith(prefix)) continue;
      const key = k.slice(prefix.length);
      const inEmptied = this.storedIn(emptied, key);
      const inReplacement = replacedWith !== null && this.storedIn(replacedWith, key);
      if (!inEmptied && !inReplacement) continue;
      for (const cl of set) {
        const stale = this.staleWatches.get(cl);
        if (stale !== undefined && stale.has(k)) {
          // Expired when watched: gone now, or replaced by another expired key, is no logical change.
          if (!inReplacement) {
            stale.delete(k);
            continue;
          }
          if (this.staleIn(replacedWith!, key)) continue;
        } else if (!inEmptied && this.staleIn(replacedWith!, key)) {
          // An absent key replaced by an expired one: still absent, but now watched as expired.
          this.staleWatchesOf(cl).add(k);
          continue;
        }
        cl.dirtyCas = true;
      }
    }
  }

  private db(dbIndex: number): Db | undefined {
    return this.server.dbs[dbIndex];
  }

  private storedIn(dbIndex: number, key: string): boolean {
    const db = this.db(dbIndex);
    return db instanceof KeyspaceDb ? db.stores(key) : db !== undefined && db.has(key);
  }

  private staleIn(dbIndex: number, key: string): boolean {
    const db = this.db(dbIndex);
    return db instanceof KeyspaceDb && db.isStale(key);
  }

  private staleWatchesOf(c: Client): Set<string> {
    let s = this.staleWatches.get(c);
    if (!s) {
      s = new Set();
      this.staleWatches.set(c, s);
    }
    return s;
  }

  /** EXEC fails when a key that was live at WATCH has expired since (isWatchedKeyExpired). */
  private watchedKeyExpired(c: Client): boolean {
    const stale = this.staleWatches.get(c);
    for (const k of c.watched) {
      if (stale !== undefined && stale.has(k)) continue;
      const i = k.indexOf('\0');
      if (this.staleIn(Number(k.slice(0, i)), k.slice(i + 1))) return true;
    }
    return false;
  }
}
