/** Key lookups the way Redis's lookupKeyRead/lookupKeyWrite do them (stats, type checks), shared by command families. */
import type { CommandContext } from './command.js';
import type { Db, Value } from '../store/types.js';
import { ERR_WRONGTYPE } from '../store/numbers.js';
import { KeyspaceDb } from '../store/db.js';
import { NOTIFY_GENERIC, NOTIFY_KEY_MISS } from '../config/keyspace-events.js';

/** lookupKeyRead: counts keyspace hits/misses. */
export function lookupRead(ctx: CommandContext, key: string, db: Db = ctx.db): Value | undefined {
  const v = db.get(key);
  // Named properties, not stats[name]: a keyed access by a varying name is a slow (megamorphic) lookup.
  const stats = ctx.server.stats;
  if (v === undefined) {
    stats.keyspace_misses = (stats.keyspace_misses ?? 0) + 1;
    notify(ctx, NOTIFY_KEY_MISS, 'keymiss', key, db.index);
  } else stats.keyspace_hits = (stats.keyspace_hits ?? 0) + 1;
  return v;
}

/** lookupKeyReadWithFlags(LOOKUP_NOTOUCH): counts hits/misses but keeps the key's idle time. */
export function lookupNoTouch(ctx: CommandContext, key: string): Value | undefined {
  const db = ctx.db;
  if (!(db instanceof KeyspaceDb)) return lookupRead(ctx, key);
  const v = db.peek(key);
  const stats = ctx.server.stats;
  if (v === undefined) stats.keyspace_misses = (stats.keyspace_misses ?? 0) + 1;
  else stats.keyspace_hits = (stats.keyspace_hits ?? 0) + 1;
  return v;
}

/**
 * A string value for reading: the string, null when missing, or undefined after replying WRONGTYPE.
 */
export function readString(ctx: CommandContext, key: string): string | null | undefined {
  const v = lookupRead(ctx, key);
  if (v === undefined) return null;
  if (typeof v !== 'string') {
    ctx.reply.error(ERR_WRONGTYPE);
    return undefined;
  }
  return v;
}

/** Same as readString but without stats (write lookups). */
export function writeString(ctx: CommandContext, key: string): string | null | undefined {
  const v = ctx.db.get(key);
  if (v === undefined) return null;
  if (typeof v !== 'string') {
    ctx.reply.error(ERR_WRONGTYPE);
    return undefined;
  }
  return v;
}

/** Redis's unsigned-long cursor parse (strtoul): an error line or the cursor. */
export function parseCursor(s: string): number | string {
  if (s.length === 0) return 0;
  if (!/^[+-]?\d+$/.test(s)) return 'ERR invalid cursor';
  let v = BigInt(s);
  if (v < 0n) v = (1n << 64n) + v;
  if (v >= 1n << 64n || v < 0n) return 'ERR invalid cursor';
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Lower-cases an option word (commands compare options case-insensitively). */
export function lc(s: string): string {
  return s.toLowerCase();
}

/** Redis's notifyKeyspaceEvent from a command: one integer test while the class (or everything) is off. */
/**
 * After elements were removed from a collection in place: the command's event, then, when it became empty, the key
 * is deleted with a "del" event (Redis's dbDelete + notify); otherwise the change is signalled (WATCH, tracking).
 */
export function afterRemoval(ctx: CommandContext, type: number, event: string, key: string, empty: boolean): void {
  notify(ctx, type, event, key);
  if (empty) {
    ctx.db.delete(key);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
  } else ctx.db.signalModified(key);
}

export function notify(ctx: CommandContext, type: number, event: string, key: string, dbIndex?: number): void {
  const s = ctx.server;
  if (((s.keyspaceEventFlags ?? 0) & type) !== 0) s.notifyKeyspaceEvent?.(type, event, key, dbIndex ?? ctx.db.index);
}
