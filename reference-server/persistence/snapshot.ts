/** Whole-server snapshots: the server's databases to an RDB buffer, and an RDB buffer into the databases. */
import type { ServerApi } from '../commands/command.js';
import { REDIS_VERSION } from '../config/config.js';
import type { Db, Value } from '../store/types.js';
import { KeyspaceDb } from '../store/db.js';
import { RdbEncoder, encodeKeyValue, loadRdb, type LoadedKey, type SavedDb } from './codec.js';

/** The aux fields an RDB starts with; repl adds what a replica needs (repl-id, repl-offset). */
function auxFields(repl?: { replid: string; offset: number; streamDb: number }): Array<[string, string | number]> {
  const aux: Array<[string, string | number]> = [
    ['redis-ver', REDIS_VERSION], ['redis-bits', 64], ['ctime', Math.floor(Date.now() / 1000)],
    ['used-mem', process.memoryUsage().rss],
  ];
  if (repl) aux.push(['repl-stream-db', repl.streamDb], ['repl-id', repl.replid], ['repl-offset', repl.offset]);
  aux.push(['aof-base', 0]);
  return aux;
}

/** Live keys of a Db that is not the keyspace table (tests' stubs). */
function* liveEntries(db: Db): IterableIterator<[string, Value, number | undefined]> {
  for (const key of db.keys()) {
    const v = db.get(key);
    if (v !== undefined) yield [key, v, db.getExpire(key)];
  }
}

/**
 * The whole dataset as of now, ready to be encoded later (a full sync encodes it while the server keeps serving):
 * strings by reference, collections already encoded, since only they change in place.
 */
export function captureSnapshot(server: ServerApi, repl?: { replid: string; offset: number; streamDb: number }): RdbEncoder {
  const lim = server.encodingLimits;
  const dbs: SavedDb[] = [];
  for (const db of server.dbs) {
    if (db.size() === 0) continue;
    const keys: string[] = [];
    const values: Array<Value | Buffer> = [];
    const expireAt: Array<number | undefined> | undefined = db.expiresCount() > 0 ? [] : undefined;
    // As Redis's rdbSaveDb: expired keys are saved too (a loading master drops them, a replica waits for DEL),
    // and saving neither deletes them (no DEL propagated at sync time) nor touches access times.
    const entries: Iterable<[string, Value, number | undefined]> = db instanceof KeyspaceDb ? db.stored() : liveEntries(db);
    for (const [key, v, at] of entries) {
      keys.push(key);
      values.push(typeof v === 'string' ? v : encodeKeyValue(key, v, lim));
      if (expireAt !== undefined) expireAt.push(at);
    }
    if (keys.length > 0) dbs.push({ index: db.index, expires: db.expiresCount(), keys, values, expireAt });
  }
  return new RdbEncoder({ dbs, aux: auxFields(repl) }, lim);
}

/** Serialises every database now (SAVE, and a full sync to a replica that cannot take a streamed payload). */
export function buildRdb(server: ServerApi, repl?: { replid: string; offset: number; streamDb: number }): Buffer {
  return captureSnapshot(server, repl).next(Infinity)!;
}

export interface LoadStats { loaded: number; expired: number; aux: Map<string, string> }

/** Adds one loaded key to its db; false when a master drops it as already expired, as Redis does. */
function insertLoaded(server: ServerApi, k: LoadedKey, dropExpired: boolean, now: number): boolean {
  const db = server.dbs[k.db];
  if (!db) throw new Error(`FATAL: Data file was created with a Redis server configured to handle more than ${server.dbs.length} databases. Exiting`);
  if (dropExpired && k.expireMs !== undefined && k.expireMs < now) return false;
  db.set(k.key, k.value);
  if (k.expireMs !== undefined) db.setExpire(k.key, k.expireMs);
  return true;
}

/** Loads an RDB into the (already emptied) databases; a master drops keys that are already expired, as Redis does. */
export function loadIntoServer(server: ServerApi, buf: Buffer, dropExpired: boolean): LoadStats {
  let loaded = 0, expired = 0;
  const now = Date.now();
  const res = loadRdb(buf, (k) => {
    if (insertLoaded(server, k, dropExpired, now)) loaded++;
    else expired++;
  });
  return { loaded, expired, aux: res.aux };
}

/**
 * key-load-delay (microseconds a key, a debug config Redis's tests use to hold a server in its loading state): the
 * keys go in a batch per 10 ms turn while the event loop keeps serving, so clients get -LOADING meanwhile, as during
 * Redis's processEventsWhileBlocked. The delay is read each turn (a test may lower it to finish); `stop()` true
 * abandons the load. Resolves true once every key is in, false when stopped. Serves the start-up load and a
 * replica's load of its master's payload.
 */
export async function insertPaced(keys: readonly LoadedKey[], insert: (k: LoadedKey) => void,
  o: { delayUs: () => number; stop: () => boolean; progress?: (inserted: number) => void }): Promise<boolean> {
  let next = 0;
  for (;;) {
    // Every turn, the first included, comes after the caller's own turn has ended.
    const delayUs = o.delayUs();
    const batch = delayUs > 0 ? Math.max(1, Math.floor(10000 / delayUs)) : keys.length;
    await new Promise((r) => setTimeout(r, next === 0 || delayUs <= 0 ? 0 : Math.ceil((batch * delayUs) / 1000)));
    if (o.stop()) return false;
    const end = Math.min(keys.length, next + batch);
    for (; next < end; next++) insert(keys[next]!);
    o.progress?.(next);
    if (next >= keys.length) return true;
  }
}

/** The start-up load with key-load-delay: the file is parsed now (a corrupt one fails start-up at once), its keys paced in. */
export function loadIntoServerPaced(server: ServerApi, buf: Buffer, dropExpired: boolean, delayUs: () => number,
  progress: { bytes: number }, stop: () => boolean): { aux: Map<string, string>; done: Promise<LoadStats> } {
  const keys: LoadedKey[] = [];
  const res = loadRdb(buf, (k) => { keys.push(k); });
  const stats: LoadStats = { loaded: 0, expired: 0, aux: res.aux };
  const insert = (k: LoadedKey): void => {
    if (insertLoaded(server, k, dropExpired, Date.now())) stats.loaded++;
    else stats.expired++;
  };
  const done = insertPaced(keys, insert, { delayUs, stop, progress: (n) => { progress.bytes = Math.floor((n * res.bytes) / keys.length); } });
  return { aux: res.aux, done: done.then(() => stats) };
}
