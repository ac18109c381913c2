/** Hash commands (t_hash.c of Redis 7.0). Small hashes keep insertion order, as Redis's listpack does. */
import type { CommandContext, CommandSpec } from './command.js';
import type { RHash } from '../store/types.js';
import { afterRemoval, lookupRead, parseCursor, lc, notify } from './access.js';
import { def } from './define.js';
import { NOTIFY_HASH } from '../config/keyspace-events.js';
import {
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_OVERFLOW,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  LLONG_MAX,
  addLL,
  parseIntRange,
  parseLL,
} from '../store/numbers.js';
import { addLD, formatLD, parseLD, type LongDouble } from '../store/longdouble.js';
import { hashEncoding, noteHashWrite } from '../store/encoding.js';
import { parseScanOptions } from './sets.js';
import { globMatch } from '../server/glob.js';

/** Hash for reading: the map, null when missing, undefined after replying WRONGTYPE. */
function readHash(ctx: CommandContext, key: string): RHash | null | undefined {
  const v = lookupRead(ctx, key);
  if (v === undefined) return null;
  if (!(v instanceof Map)) {
    ctx.reply.error(ERR_WRONGTYPE);
    return undefined;
  }
  return v;
}

/** hashTypeLookupWriteOrCreate: creates an empty hash key when missing. */
function writeHash(ctx: CommandContext, key: string): RHash | undefined {
  const v = ctx.db.get(key);
  if (v === undefined) {
    const h: RHash = new Map();
    ctx.db.add(key, h);
    return h;
  }
  if (!(v instanceof Map)) {
    ctx.reply.error(ERR_WRONGTYPE);
    return undefined;
  }
  return v;
}

function cmdHset(ctx: CommandContext, argv: string[], legacy: boolean): void {
  if (argv.length % 2 === 1) {
    ctx.reply.error(`ERR wrong number of arguments for '${legacy ? 'hmset' : 'hset'}' command`);
    return;
  }
  const h = writeHash(ctx, argv[1]);
  if (h === undefined) return;
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (!h.has(argv[i])) created++;
    h.set(argv[i], argv[i + 1]);
    noteHashWrite(h, ctx.server.encodingLimits, argv[i], argv[i + 1]);
  }
  ctx.db.signalModified(argv[1]);
  notify(ctx, NOTIFY_HASH, 'hset', argv[1]);
  if (legacy) ctx.reply.ok();
  else ctx.reply.integer(created);
}

function cmdHsetnx(ctx: CommandContext, argv: string[]): void {
  const h = writeHash(ctx, argv[1]);
  if (h === undefined) return;
  if (h.has(argv[2])) {
    ctx.noPropagate();
    ctx.reply.integer(0);
    return;
  }
  h.set(argv[2], argv[3]);
  noteHashWrite(h, ctx.server.encodingLimits, argv[2], argv[3]);
  ctx.db.signalModified(argv[1]);
  notify(ctx, NOTIFY_HASH, 'hset', argv[1]);
  ctx.reply.integer(1);
}

function cmdHget(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h === undefined) return;
  ctx.reply.bulk(h?.get(argv[2]) ?? null);
}

function cmdHmget(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h === undefined) return;
  const out: (string | null)[] = [];
  for (let i = 2; i < argv.length; i++) out.push(h?.get(argv[i]) ?? null);
  ctx.reply.bulkArray(out);
}

function cmdHdel(ctx: CommandContext, argv: string[]): void {
  const v = ctx.db.get(argv[1]);
  if (v === undefined) {
    ctx.noPropagate();
    ctx.reply.integer(0);
    return;
  }
  if (!(v instanceof Map)) {
    ctx.reply.error(ERR_WRONGTYPE);
    return;
  }
  let n = 0;
  for (let i = 2; i < argv.length; i++) {
    if (v.delete(argv[i])) {
      n++;
      if (v.size === 0) break;
    }
  }
  if (n > 0) afterRemoval(ctx, NOTIFY_HASH, 'hdel', argv[1], v.size === 0);
  else ctx.noPropagate();
  ctx.reply.integer(n);
}

function cmdHexists(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h !== undefined) ctx.reply.integer(h?.has(argv[2]) ? 1 : 0);
}

function cmdHlen(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h !== undefined) ctx.reply.integer(h?.size ?? 0);
}

function cmdHstrlen(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h !== undefined) ctx.reply.integer(h?.get(argv[2])?.length ?? 0);
}

function cmdHkeys(ctx: CommandContext, argv: string[], what: 'keys' | 'vals'): void {
  const h = readHash(ctx, argv[1]);
  if (h === undefined) return;
  if (h === null) {
    ctx.reply.arrayHeader(0);
    return;
  }
  ctx.reply.bulkArray([...(what === 'keys' ? h.keys() : h.values())]);
}

function cmdHgetall(ctx: CommandContext, argv: string[]): void {
  const h = readHash(ctx, argv[1]);
  if (h === undefined) return;
  if (h === null) {
    ctx.reply.mapHeader(0);
    return;
  }
  ctx.reply.mapHeader(h.size);
  for (const [f, v] of h) {
    ctx.reply.bulk(f);
    ctx.reply.bulk(v);
  }
}

function cmdHincrby(ctx: CommandContext, argv: string[]): void {
  const incr = parseLL(argv[3]);
  if (incr === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const h = writeHash(ctx, argv[1]);
  if (h === undefined) return;
  const cur = h.get(argv[2]);
  let value: bigint | number = 0;
  if (cur !== undefined) {
    const p = parseLL(cur);
    if (p === null) {
      ctx.reply.error('ERR hash value is not an integer');
      return;
    }
    value = p;
  }
  const next = addLL(value, incr);
  if (next === null) {
    ctx.reply.error(ERR_OVERFLOW);
    return;
  }
  const s = String(next);
  h.set(argv[2], s);
  noteHashWrite(h, ctx.server.encodingLimits, argv[2], s);
  ctx.db.signalModified(argv[1]);
  notify(ctx, NOTIFY_HASH, 'hincrby', argv[1]);
  ctx.reply.integer(next);
}

function cmdHincrbyfloat(ctx: CommandContext, argv: string[]): void {
  const incr = parseLD(argv[3]);
  if (incr === null) {
    ctx.reply.error(ERR_NOT_FLOAT);
    return;
  }
  if (incr.inf) {
    ctx.reply.error('ERR value is NaN or Infinity');
    return;
  }
  const h = writeHash(ctx, argv[1]);
  if (h === undefined) return;
  const cur = h.get(argv[2]);
  let value: LongDouble = { neg: false, m: 0n, e: 0 };
  if (cur !== undefined) {
    const p = parseLD(cur);
    if (p === null) {
      ctx.reply.error('ERR hash value is not a float');
      return;
    }
    value = p;
  }
  const sum = addLD(value, incr);
  if (sum.inf) {
    ctx.reply.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const s = formatLD(sum);
  h.set(argv[2], s);
  noteHashWrite(h, ctx.server.encodingLimits, argv[2], s);
  ctx.db.signalModified(argv[1]);
  notify(ctx, NOTIFY_HASH, 'hincrbyfloat', argv[1]);
  ctx.reply.bulk(s);
  ctx.propagateAs([['HSET', argv[1], argv[2], s]]);
}

/** Live Map iterators per hash and cursor: they survive inserts and deletes, so HSCAN never misses a field. */
const scanIterators = new WeakMap<RHash, Map<number, { it: Iterator<string>; pos: number }>>();
const NONCE_BITS = 1024;
const MAX_ITERATORS = 16;
let nonce = 0;

function cmdHscan(ctx: CommandContext, argv: string[]): void {
  const cursor = parseCursor(argv[2]);
  if (typeof cursor === 'string') {
    ctx.reply.error(cursor);
    return;
  }
  const v = lookupRead(ctx, argv[1]);
  if (v === undefined) {
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk('0');
    ctx.reply.arrayHeader(0);
    return;
  }
  if (!(v instanceof Map)) {
    ctx.reply.error(ERR_WRONGTYPE);
    return;
  }
  const opts = parseScanOptions(ctx.reply, argv, 3);
  if (opts === null) return;
  const count = opts.count;
  const pattern = opts.pattern ?? undefined;
  const out: string[] = [];
  const emit = (f: string): void => {
    const val = v.get(f);
    if (val === undefined || (pattern !== undefined && !globMatch(pattern, f))) return;
    out.push(f, val);
  };
  let next = 0;
  if (hashEncoding(v, ctx.server.encodingLimits) === 'listpack') {
    // Redis returns a listpack hash whole, whatever the cursor.
    for (const f of v.keys()) emit(f);
  } else {
    let cache = scanIterators.get(v);
    if (cache === undefined) {
      cache = new Map();
      scanIterators.set(v, cache);
    }
    let state = cursor === 0 ? undefined : cache.get(cursor);
    cache.delete(cursor);
    if (state === undefined) {
      // Unknown cursor (evicted, or from another server): resume by position.
      const it = v.keys();
      const pos = cursor === 0 ? 0 : Math.floor(cursor / NONCE_BITS);
      for (let k = 0; k < pos; k++) if (it.next().done) break;
      state = { it, pos };
    }
    let taken = 0;
    let done = false;
    while (taken < count) {
      const r = state.it.next();
      if (r.done) {
        done = true;
        break;
      }
      state.pos++;
      taken++;
      emit(r.value);
    }
    if (!done) {
      nonce = (nonce % (NONCE_BITS - 1)) + 1;
      next = state.pos * NONCE_BITS + nonce;
      if (cache.size >= MAX_ITERATORS) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(next, state);
    }
  }
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk(String(next));
  ctx.reply.bulkArray(out);
}

function cmdHrandfield(ctx: CommandContext, argv: string[]): void {
  if (argv.length >= 3) {
    const c = parseIntRange(argv[2], -LLONG_MAX, LLONG_MAX);
    if (typeof c === 'string') {
      ctx.reply.error(c);
      return;
    }
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && lc(argv[3]) !== 'withvalues')) {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withValues = true;
      const big = BigInt(parseLL(argv[2]) ?? 0);
      if (big < -(LLONG_MAX / 2n) || big > LLONG_MAX / 2n) {
        ctx.reply.error('ERR value is out of range');
        return;
      }
    }
    randWithCount(ctx, argv[1], c, withValues);
    return;
  }
  const h = readHash(ctx, argv[1]);
  if (h === undefined) return;
  if (h === null) {
    ctx.reply.bulk(null);
    return;
  }
  const keys = [...h.keys()];
  ctx.reply.bulk(keys[Math.floor(Math.random() * keys.length)]);
}

function randWithCount(ctx: CommandContext, key: string, count: number, withValues: boolean): void {
  const v = lookupRead(ctx, key);
  if (v === undefined) {
    ctx.reply.arrayHeader(0);
    return;
  }
  if (!(v instanceof Map)) {
    ctx.reply.error(ERR_WRONGTYPE);
    return;
  }
  if (count === 0) {
    ctx.reply.arrayHeader(0);
    return;
  }
  const entries = [...v];
  const resp3 = ctx.reply.resp === 3;
  const header = (n: number): void => ctx.reply.arrayHeader(withValues && !resp3 ? n * 2 : n);
  const put = ([f, val]: [string, string]): void => {
    if (withValues && resp3) ctx.reply.arrayHeader(2);
    ctx.reply.bulk(f);
    if (withValues) ctx.reply.bulk(val);
  };
  if (count < 0 || count === 1) {
    const n = Math.abs(count);
    header(n);
    for (let i = 0; i < n; i++) put(entries[Math.floor(Math.random() * entries.length)]);
    return;
  }
  if (count >= entries.length) {
    header(entries.length);
    for (const e of entries) put(e);
    return;
  }
  // Partial Fisher-Yates: distinct fields in random order.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (entries.length - i));
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  header(count);
  for (let i = 0; i < count; i++) put(entries[i]);
}

export const commands: CommandSpec[] = [
  def('hset', -4, 'write denyoom fast', [1, 1, 1], 'write hash fast', (ctx, argv) => cmdHset(ctx, argv, false)),
  def('hsetnx', 4, 'write denyoom fast', [1, 1, 1], 'write hash fast', cmdHsetnx),
  def('hget', 3, 'readonly fast', [1, 1, 1], 'read hash fast', cmdHget),
  def('hmset', -4, 'write denyoom fast', [1, 1, 1], 'write hash fast', (ctx, argv) => cmdHset(ctx, argv, true)),
  def('hmget', -3, 'readonly fast', [1, 1, 1], 'read hash fast', cmdHmget),
  def('hdel', -3, 'write fast', [1, 1, 1], 'write hash fast', cmdHdel),
  def('hexists', 3, 'readonly fast', [1, 1, 1], 'read hash fast', cmdHexists),
  def('hlen', 2, 'readonly fast', [1, 1, 1], 'read hash fast', cmdHlen),
  def('hkeys', 2, 'readonly', [1, 1, 1], 'read hash slow', (ctx, argv) => cmdHkeys(ctx, argv, 'keys')),
  def('hvals', 2, 'readonly', [1, 1, 1], 'read hash slow', (ctx, argv) => cmdHkeys(ctx, argv, 'vals')),
  def('hgetall', 2, 'readonly', [1, 1, 1], 'read hash slow', cmdHgetall),
  def('hincrby', 4, 'write denyoom fast', [1, 1, 1], 'write hash fast', cmdHincrby),
  def('hincrbyfloat', 4, 'write denyoom fast', [1, 1, 1], 'write hash fast', cmdHincrbyfloat),
  def('hstrlen', 3, 'readonly fast', [1, 1, 1], 'read hash fast', cmdHstrlen),
  def('hscan', -3, 'readonly', [1, 1, 1], 'read hash slow', cmdHscan),
  def('hrandfield', -2, 'readonly', [1, 1, 1], 'read hash slow', cmdHrandfield),
];
