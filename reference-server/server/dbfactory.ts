/** Wires store/db.ts's hooks to the server (WATCH, expiry propagation, replica visibility). */
import { createDb } from '../store/db.js';
import type { Db } from '../store/types.js';
import type { RedisServer } from './server.js';

export function createServerDb(index: number, server: RedisServer): Db {
  return createDb(index, {
    now: () => server.now(),
    limits: server.encodingLimits,
    // During CLIENT PAUSE the dataset stays static as in Redis 7.0: expired keys are hidden, not deleted, like on a replica.
    isReplica: () => server.replication.role() === 'replica' || server.clientsPaused(),
    fromMaster: () => server.currentClient !== null && server.currentClient.kind === 'master',
    onExpired: (db, key) => server.keyExpired(db.index, key),
    onModified: (db, key) => server.keyModified(db.index, key),
    onFlushed: (db) => server.dbFlushed(db.index),
    onSwapping: (db, other) => server.dbSwapping(db.index, other.index),
  });
}
