/** Whole-server snapshots: the server's databases to an RDB buffer, and an RDB buffer into the databases. */
import type { ServerApi } from '../../commands/command.js';
import { REDIS_VERSION } from '../../config/config.js';
import { DEFAULT_LIMITS, loadRdb, writeRdb, type EncodingLimits, type SavedKey } from './codec.js';

export function limitsFromConfig(server: ServerApi): EncodingLimits {
  const c = server.config;
  const n = (name: string, d: number): number => { const v = c.getNumber(name); return Number.isFinite(v) ? v : d; };
  return {
    compression: c.get('rdbcompression') !== 'no',
    hashMaxListpackEntries: n('hash-max-listpack-entries', DEFAULT_LIMITS.hashMaxListpackEntries),
    hashMaxListpackValue: n('hash-max-listpack-value', DEFAULT_LIMITS.hashMaxListpackValue),
    zsetMaxListpackEntries: n('zset-max-listpack-entries', DEFAULT_LIMITS.zsetMaxListpackEntries),
    zsetMaxListpackValue: n('zset-max-listpack-value', DEFAULT_LIMITS.zsetMaxListpackValue),
    setMaxIntsetEntries: n('set-max-intset-entries', DEFAULT_LIMITS.setMaxIntsetEntries),
    listMaxListpackSize: n('list-max-listpack-size', DEFAULT_LIMITS.listMaxListpackSize),
  };
}

/** Serialises every database; repl adds the aux fields a replica needs (repl-id, repl-offset). */
export function buildRdb(server: ServerApi, repl?: { replid: string; offset: number; streamDb: number }): Buffer {
  const aux: Array<[string, string | number]> = [
    ['redis-ver', REDIS_VERSION], ['redis-bits', 64], ['ctime', Math.floor(Date.now() / 1000)],
    ['used-mem', process.memoryUsage().rss],
  ];
  if (repl) aux.push(['repl-stream-db', repl.streamDb], ['repl-id', repl.replid], ['repl-offset', repl.offset]);
  aux.push(['aof-base', 0]);
  const dbs = server.dbs.map((db) => {
    const keys = [...db.keys()];
    const gen = function* (): Iterable<SavedKey> {
      for (const key of keys) {
        const value = db.get(key);
        if (value === undefined) continue;
        yield { key, value, expireMs: db.getExpire(key) };
      }
    };
    return { index: db.index, size: keys.length, expires: db.expiresCount(), keys: gen() };
  });
  return writeRdb({ dbs, aux }, limitsFromConfig(server));
}

export interface LoadStats { loaded: number; expired: number; aux: Map<string, string> }

/** Loads an RDB into the (already emptied) databases; a master drops keys that are already expired, as Redis does. */
export function loadIntoServer(server: ServerApi, buf: Buffer, dropExpired: boolean): LoadStats {
  let loaded = 0, expired = 0;
  const now = Date.now();
  const res = loadRdb(buf, (k) => {
    const db = server.dbs[k.db];
    if (!db) throw new Error(`FATAL: Data file was created with a Redis server configured to handle more than ${server.dbs.length} databases. Exiting`);
    if (dropExpired && k.expireMs !== undefined && k.expireMs < now) { expired++; return; }
    db.set(k.key, k.value);
    if (k.expireMs !== undefined) db.setExpire(k.key, k.expireMs);
    loaded++;
  });
  return { loaded, expired, aux: res.aux };
}
