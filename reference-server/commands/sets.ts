/** Set commands (Redis 7.0 t_set.c semantics); sets are plain Set<string> values. */
import type { CommandContext, CommandSpec, Reply } from './command.js';
import type { RSet } from '../store/types.js';
import { globMatch } from '../server/glob.js';
import {
  argCount, argLong, argPositiveLong, argRangeLong, ERR_SYNTAX, ERR_WRONGTYPE, lookupTyped, numkeysKeys, withReadStats,
} from './lists.js';
import { typeOf } from '../store/types.js';
import { markHashtable, setEncoding, type EncodingLimits } from '../store/encoding.js';
import { afterRemoval, lookupRead, notify } from './access.js';
import { NOTIFY_GENERIC, NOTIFY_SET } from '../config/keyspace-events.js';

/** The set at key; undefined when missing; false after a WRONGTYPE reply. */
function getSet(ctx: CommandContext, key: string, read = false): RSet | undefined | false {
  return lookupTyped(ctx, key, 'set', read) as RSet | undefined | false;
}

/** Reads several keys as sets (missing = null); false after WRONGTYPE. */
function getSets(ctx: CommandContext, keys: readonly string[]): (RSet | null)[] | false {
  const out: (RSet | null)[] = [];
  for (const k of keys) {
    const s = getSet(ctx, k, true);
    if (s === false) return false;
    out.push(s ?? null);
  }
  return out;
}

function numCompare(a: string, b: string): number {
  if (a.length < 16 && b.length < 16) return Number(a) - Number(b);
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Members in Redis's iteration order where it is defined: intset sets iterate in ascending numeric order. */
function ordered(s: RSet, lim: Readonly<EncodingLimits>): string[] {
  const arr = [...s];
  if (setEncoding(s, lim) === 'intset') arr.sort(numCompare);
  return arr;
}

/** After members were added: a set that left the intset encoding stays a hashtable, as in Redis. */
function noteSetWrite(ctx: CommandContext, s: RSet): void {
  if (setEncoding(s, ctx.server.encodingLimits) === 'hashtable') markHashtable(s);
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

function randomMember(s: RSet): string {
  let i = randomIndex(s.size);
  for (const m of s) if (i-- === 0) return m;
  throw new Error('unreachable: empty set');
}

function replySet(ctx: CommandContext, members: Iterable<string>, size: number): void {
  const reply = ctx.reply;
  reply.setHeader(size);
  for (const m of members instanceof Set ? ordered(members, ctx.server.encodingLimits) : members) reply.bulk(m);
}

function intersect(sets: RSet[]): string[] {
  const sorted = [...sets].sort((a, b) => a.size - b.size);
  const out: string[] = [];
  outer: for (const m of sorted[0]) {
    for (let j = 1; j < sorted.length; j++) if (sorted[j] !== sorted[0] && !sorted[j].has(m)) continue outer;
    out.push(m);
  }
  return out;
}

function unionOrDiff(sets: (RSet | null)[], op: 'union' | 'diff'): Set<string> {
  const out = new Set<string>();
  if (op === 'union') {
    for (const s of sets) if (s) for (const m of s) out.add(m);
    return out;
  }
  const first = sets[0];
  if (!first) return out;
  for (let j = 1; j < sets.length; j++) if (sets[j] === first) return out;
  for (const m of first) {
    let keep = true;
    for (let j = 1; j < sets.length && keep; j++) if (sets[j]?.has(m)) keep = false;
    if (keep) out.add(m);
  }
  return out;
}

/** Stores a computed set at dst (deleting dst when empty) and replies its size. */
function store(ctx: CommandContext, dst: string, result: Set<string>, event: string): void {
  if (result.size > 0) {
    noteSetWrite(ctx, result);
    ctx.db.set(dst, result);
    notify(ctx, NOTIFY_SET, event, dst);
  } else if (!ctx.db.delete(dst)) {
    ctx.noPropagate();
  } else notify(ctx, NOTIFY_GENERIC, 'del', dst);
  ctx.reply.integer(result.size);
}

function sinterGeneric(ctx: CommandContext, keys: readonly string[], dst: string | null): void {
  const sets = getSets(ctx, keys);
  if (sets === false) return;
  if (sets.some((s) => s === null)) {
    if (dst !== null) store(ctx, dst, new Set(), 'sinterstore');
    else ctx.reply.setHeader(0);
    return;
  }
  const members = intersect(sets as RSet[]);
  if (dst !== null) store(ctx, dst, new Set(members), 'sinterstore');
  else replySet(ctx, members, members.length);
}

function sunionDiff(ctx: CommandContext, keys: readonly string[], dst: string | null, op: 'union' | 'diff'): void {
  const sets = getSets(ctx, keys);
  if (sets === false) return;
  const result = unionOrDiff(sets, op);
  if (dst !== null) store(ctx, dst, result, op === 'union' ? 'sunionstore' : 'sdiffstore');
  else replySet(ctx, result, result.size);
}

/** Redis's SPOP_MOVE_STRATEGY_MUL: when few members remain, the set is rebuilt from them. */
const SPOP_MOVE_STRATEGY_MUL = 5;

function spopWithCount(ctx: CommandContext, argv: string[]): void {
  const count = argPositiveLong(ctx.reply, argv[2]);
  if (count === null) return;
  const key = argv[1];
  const s = getSet(ctx, key);
  if (s === false) return;
  if (s === undefined || count === 0) {
    ctx.reply.setHeader(0);
    ctx.noPropagate();
    return;
  }
  notify(ctx, NOTIFY_SET, 'spop', key);
  if (count >= s.size) {
    // Redis replies through SUNION's code here, whose read lookup counts a keyspace hit.
    lookupRead(ctx, key);
    replySet(ctx, s, s.size);
    ctx.db.delete(key);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
    ctx.propagateAs([['DEL', key]]);
    return;
  }
  // Partial Fisher-Yates over a snapshot: the first `count` slots are the popped members.
  const arr = [...s];
  for (let i = 0; i < count; i++) {
    const j = i + randomIndex(arr.length - i);
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  const popped = arr.slice(0, count);
  const remaining = s.size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    for (const m of popped) s.delete(m);
    ctx.db.signalModified(key);
  } else {
    // Redis builds a fresh set from the survivors here, so a hashtable set may become an intset again.
    const rebuilt = new Set(arr.slice(count));
    noteSetWrite(ctx, rebuilt);
    ctx.db.set(key, rebuilt, true);
  }
  replySet(ctx, popped, popped.length);
  ctx.propagateAs(popped.map((m) => ['SREM', key, m]));
}

function srandmemberWithCount(ctx: CommandContext, argv: string[]): void {
  const l = argCount(ctx.reply, argv[2]);
  if (l === null) return;
  const s = getSet(ctx, argv[1]);
  if (s === false) return;
  if (s === undefined || l === 0) {
    ctx.reply.arrayHeader(0);
    return;
  }
  const arr = ordered(s, ctx.server.encodingLimits);
  if (l < 0 || l === 1) {
    const n = Math.abs(l);
    ctx.reply.arrayHeader(n);
    for (let i = 0; i < n; i++) ctx.reply.bulk(arr[randomIndex(arr.length)]);
    return;
  }
  if (l >= arr.length) {
    ctx.reply.bulkArray(arr);
    return;
  }
  for (let i = 0; i < l; i++) {
    const j = i + randomIndex(arr.length - i);
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  ctx.reply.bulkArray(arr.slice(0, l));
}

/** Parses SSCAN/ZSCAN/HSCAN-style options after the cursor; null after an error reply. */
export function parseScanOptions(reply: Reply, argv: string[], from: number): { count: number; pattern: string | null } | null {
  let count = 10;
  let pattern: string | null = null;
  for (let i = from; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const more = argv.length - i;
    if (opt === 'count' && more >= 2) {
      const c = argLong(reply, argv[i + 1]);
      if (c === null) return null;
      if (c < 1) {
        reply.error(ERR_SYNTAX);
        return null;
      }
      count = c;
    } else if (opt === 'match' && more >= 2) {
      pattern = argv[i + 1] === '*' ? null : argv[i + 1];
    } else {
      reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { count, pattern };
}

/** strtoul-style cursor; null after the "invalid cursor" error. */
export function parseCursor(reply: Reply, s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s) || s.length > 20 || BigInt(s) > 18446744073709551615n) {
    reply.error('ERR invalid cursor');
    return null;
  }
  const n = Number(s);
  return n < 0 ? 0 : n;
}

/** FNV-1a over the member's bytes: each member's fixed place in the scan order. */
function scanHash(m: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < m.length; i++) {
    h ^= m.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * One SCAN step over a collection: members are visited in hash order from `cursor`, so a member present for
 * the whole scan is returned even if others come and go. Steps return at least COUNT members and at most
 * 64 steps cover the collection; the next cursor is the hash after the last member returned (0 = done).
 */
export function hashScanStep(members: Iterable<string>, total: number, cursor: number, count: number): { next: number; picked: string[] } {
  const budget = Math.max(count, Math.ceil(total / 64));
  const cand: [number, string][] = [];
  for (const m of members) {
    const h = scanHash(m);
    if (h >= cursor) cand.push([h, m]);
  }
  if (cand.length <= budget) return { next: 0, picked: cand.map((c) => c[1]) };
  cand.sort((a, b) => a[0] - b[0]);
  let end = budget;
  while (end < cand.length && cand[end][0] === cand[end - 1][0]) end++;
  return { next: end < cand.length ? cand[end - 1][0] + 1 : 0, picked: cand.slice(0, end).map((c) => c[1]) };
}

/** Intset sets (small, all integers) come back whole and sorted, as Redis does; bigger ones by hash order. */
function sscan(ctx: CommandContext, argv: string[]): void {
  const cursor = parseCursor(ctx.reply, argv[2]);
  if (cursor === null) return;
  const opts = parseScanOptions(ctx.reply, argv, 3);
  if (!opts) return;
  const s = getSet(ctx, argv[1]);
  if (s === false) return;
  let items: string[] = [];
  let next = 0;
  if (s && (s.size <= opts.count || setEncoding(s, ctx.server.encodingLimits) === 'intset')) items = ordered(s, ctx.server.encodingLimits);
  else if (s) ({ next, picked: items } = hashScanStep(s, s.size, cursor, opts.count));
  if (opts.pattern !== null) items = items.filter((m) => globMatch(opts.pattern as string, m));
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk(String(next));
  ctx.reply.bulkArray(items);
}

const k1 = { firstKey: 1, lastKey: 1, step: 1 };
const kAll = { firstKey: 1, lastKey: -1, step: 1 };

export const commands: CommandSpec[] = withReadStats([
  { name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], ...k1, categories: ['write', 'set', 'fast'],
    execute: (ctx, argv) => {
      const key = argv[1];
      let s = getSet(ctx, key);
      if (s === false) return;
      let added = 0;
      if (s === undefined) {
        s = new Set<string>();
        for (let i = 2; i < argv.length; i++) s.add(argv[i]);
        added = s.size;
        ctx.db.add(key, s);
        noteSetWrite(ctx, s);
      } else {
        for (let i = 2; i < argv.length; i++) {
          if (!s.has(argv[i])) {
            s.add(argv[i]);
            added++;
          }
        }
        if (added > 0) {
          noteSetWrite(ctx, s);
          ctx.db.signalModified(key);
        } else ctx.noPropagate();
      }
      if (added > 0) notify(ctx, NOTIFY_SET, 'sadd', key);
      ctx.reply.integer(added);
    } },
  { name: 'srem', arity: -3, flags: ['write', 'fast'], ...k1, categories: ['write', 'set', 'fast'],
    execute: (ctx, argv) => {
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      let removed = 0;
      if (s) {
        for (let i = 2; i < argv.length; i++) if (s.delete(argv[i])) removed++;
        // A stored set is never empty, so one that is empty now lost members here.
        if (removed > 0) afterRemoval(ctx, NOTIFY_SET, 'srem', argv[1], s.size === 0);
      }
      if (removed === 0) ctx.noPropagate();
      ctx.reply.integer(removed);
    } },
  { name: 'smembers', arity: 2, flags: ['readonly'], ...k1, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => {
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      if (s) replySet(ctx, s, s.size);
      else ctx.reply.setHeader(0);
    } },
  { name: 'sismember', arity: 3, flags: ['readonly', 'fast'], ...k1, categories: ['read', 'set', 'fast'],
    execute: (ctx, argv) => {
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      ctx.reply.integer(s && s.has(argv[2]) ? 1 : 0);
    } },
  { name: 'smismember', arity: -3, flags: ['readonly', 'fast'], ...k1, categories: ['read', 'set', 'fast'],
    execute: (ctx, argv) => {
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      ctx.reply.arrayHeader(argv.length - 2);
      for (let i = 2; i < argv.length; i++) ctx.reply.integer(s && s.has(argv[i]) ? 1 : 0);
    } },
  { name: 'scard', arity: 2, flags: ['readonly', 'fast'], ...k1, categories: ['read', 'set', 'fast'],
    execute: (ctx, argv) => {
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      ctx.reply.integer(s ? s.size : 0);
    } },
  { name: 'spop', arity: -2, flags: ['write', 'fast'], ...k1, categories: ['write', 'set', 'fast'],
    execute: (ctx, argv) => {
      if (argv.length === 3) return spopWithCount(ctx, argv);
      if (argv.length > 3) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      const key = argv[1];
      const s = getSet(ctx, key);
      if (s === false) return;
      if (s === undefined) {
        ctx.reply.bulk(null);
        ctx.noPropagate();
        return;
      }
      const m = randomMember(s);
      s.delete(m);
      ctx.propagateAs([['SREM', key, m]]);
      ctx.reply.bulk(m);
      afterRemoval(ctx, NOTIFY_SET, 'spop', key, s.size === 0);
    } },
  { name: 'srandmember', arity: -2, flags: ['readonly'], ...k1, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => {
      if (argv.length === 3) return srandmemberWithCount(ctx, argv);
      if (argv.length > 3) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      const s = getSet(ctx, argv[1]);
      if (s === false) return;
      ctx.reply.bulk(s ? randomMember(s) : null);
    } },
  { name: 'smove', arity: 4, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, step: 1, categories: ['write', 'set', 'fast'],
    execute: (ctx, argv) => {
      const [, srcKey, dstKey, m] = argv;
      const src = ctx.db.get(srcKey);
      const dst = ctx.db.get(dstKey);
      if (src === undefined) {
        ctx.reply.integer(0);
        ctx.noPropagate();
        return;
      }
      if (typeOf(src) !== 'set' || (dst !== undefined && typeOf(dst) !== 'set')) {
        ctx.reply.error(ERR_WRONGTYPE);
        return;
      }
      const s = src as RSet;
      if (s === dst) {
        ctx.reply.integer(s.has(m) ? 1 : 0);
        ctx.noPropagate();
        return;
      }
      if (!s.delete(m)) {
        ctx.reply.integer(0);
        ctx.noPropagate();
        return;
      }
      afterRemoval(ctx, NOTIFY_SET, 'srem', srcKey, s.size === 0);
      if (dst === undefined) {
        const created = new Set([m]);
        noteSetWrite(ctx, created);
        ctx.db.add(dstKey, created);
        notify(ctx, NOTIFY_SET, 'sadd', dstKey);
      }
      else if (!(dst as RSet).has(m)) {
        (dst as RSet).add(m);
        noteSetWrite(ctx, dst as RSet);
        ctx.db.signalModified(dstKey);
        notify(ctx, NOTIFY_SET, 'sadd', dstKey);
      }
      ctx.reply.integer(1);
    } },
  { name: 'sinter', arity: -2, flags: ['readonly'], ...kAll, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => sinterGeneric(ctx, argv.slice(1), null) },
  { name: 'sintercard', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0,
    categories: ['read', 'set', 'slow'],
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => {
      const numkeys = argRangeLong(ctx.reply, argv[1], 1, Infinity, 'numkeys should be greater than 0');
      if (numkeys === null) return;
      if (numkeys > argv.length - 2) {
        ctx.reply.error("ERR Number of keys can't be greater than number of args");
        return;
      }
      let limit = 0;
      for (let j = 2 + numkeys; j < argv.length; j++) {
        const more = argv.length - 1 - j;
        if (argv[j].toLowerCase() === 'limit' && more > 0) {
          const l = argPositiveLong(ctx.reply, argv[++j], "LIMIT can't be negative");
          if (l === null) return;
          limit = l;
        } else {
          ctx.reply.error(ERR_SYNTAX);
          return;
        }
      }
      const sets = getSets(ctx, argv.slice(2, 2 + numkeys));
      if (sets === false) return;
      if (sets.some((s) => s === null)) {
        ctx.reply.integer(0);
        return;
      }
      const n = intersect(sets as RSet[]).length;
      ctx.reply.integer(limit > 0 ? Math.min(limit, n) : n);
    } },
  { name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], ...kAll, categories: ['write', 'set', 'slow'],
    execute: (ctx, argv) => sinterGeneric(ctx, argv.slice(2), argv[1]) },
  { name: 'sunion', arity: -2, flags: ['readonly'], ...kAll, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => sunionDiff(ctx, argv.slice(1), null, 'union') },
  { name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], ...kAll, categories: ['write', 'set', 'slow'],
    execute: (ctx, argv) => sunionDiff(ctx, argv.slice(2), argv[1], 'union') },
  { name: 'sdiff', arity: -2, flags: ['readonly'], ...kAll, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => sunionDiff(ctx, argv.slice(1), null, 'diff') },
  { name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], ...kAll, categories: ['write', 'set', 'slow'],
    execute: (ctx, argv) => sunionDiff(ctx, argv.slice(2), argv[1], 'diff') },
  { name: 'sscan', arity: -3, flags: ['readonly'], ...k1, categories: ['read', 'set', 'slow'],
    execute: (ctx, argv) => sscan(ctx, argv) },
]);
