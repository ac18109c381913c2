/** String commands with Redis 7.0's arity, flags, replies, errors and propagation rewrites (t_string.c). */
import type { CommandContext, CommandSpec } from './command.js';
import { lookupRead, readString, writeString, lc, notify } from './access.js';
import { def } from './define.js';
import { NOTIFY_GENERIC, NOTIFY_STRING } from '../config/keyspace-events.js';
import {
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_OVERFLOW,
  ERR_SYNTAX,
  LLONG_MAX,
  addLL,
  parseBig,
  parseLL,
} from '../store/numbers.js';
import { addLD, formatLD, parseLD, type LongDouble } from '../store/longdouble.js';
import { KeyspaceDb } from '../store/db.js';

/** Remembers the encoding Redis gives a value built in place (OBJECT ENCODING). */
function forceEncoding(ctx: CommandContext, key: string, enc: 'raw' | 'embstr'): void {
  if (ctx.db instanceof KeyspaceDb) ctx.db.setStringEncoding(key, enc);
}

const ZERO_LD: LongDouble = { neg: false, m: 0n, e: 0 };

/** V8 cannot hold a one-byte string longer than this; past it we answer as if proto-max-bulk-len were hit. */
const MAX_JS_STRING = (1 << 29) - 24;

const F_NX = 1;
const F_XX = 2;
const F_GET = 4;
const F_KEEPTTL = 8;
const F_PERSIST = 16;
const F_EX = 32;
const F_PX = 64;
const F_EXAT = 128;
const F_PXAT = 256;
const ANY_EXPIRE = F_EX | F_PX | F_EXAT | F_PXAT;

interface SetArgs {
  flags: number;
  expire?: string;
}

/** parseExtendedStringArgumentsOrReply: SET (isSet) or GETEX options from argv[start]. */
function parseExtended(ctx: CommandContext, argv: string[], start: number, isSet: boolean): SetArgs | undefined {
  let flags = 0;
  let expire: string | undefined;
  for (let j = start; j < argv.length; j++) {
    const opt = lc(argv[j]);
    const hasNext = j < argv.length - 1;
    if (opt === 'nx' && !(flags & F_XX) && isSet) flags |= F_NX;
    else if (opt === 'xx' && !(flags & F_NX) && isSet) flags |= F_XX;
    else if (opt === 'get' && isSet) flags |= F_GET;
    else if (opt === 'keepttl' && !(flags & F_PERSIST) && !(flags & ANY_EXPIRE) && isSet) flags |= F_KEEPTTL;
    else if (opt === 'persist' && !isSet && !(flags & ANY_EXPIRE) && !(flags & F_KEEPTTL)) flags |= F_PERSIST;
    else if (
      (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') &&
      !(flags & F_KEEPTTL) &&
      !(flags & F_PERSIST) &&
      hasNext
    ) {
      const bit = opt === 'ex' ? F_EX : opt === 'px' ? F_PX : opt === 'exat' ? F_EXAT : F_PXAT;
      // Only the same unit may repeat (the last value wins), as in Redis.
      if (flags & (ANY_EXPIRE & ~bit)) {
        ctx.reply.error(ERR_SYNTAX);
        return undefined;
      }
      flags |= bit;
      expire = argv[++j];
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return undefined;
    }
  }
  return { flags, expire };
}

/** getExpireMillisecondsOrReply: absolute unix ms, or undefined after replying. */
function expireMs(ctx: CommandContext, cmd: string, raw: string, flags: number): number | undefined {
  const v = parseBig(raw);
  if (v === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return undefined;
  }
  const seconds = (flags & (F_EX | F_EXAT)) !== 0;
  const bad = `ERR invalid expire time in '${cmd}' command`;
  if (v <= 0n || (seconds && v > LLONG_MAX / 1000n)) {
    ctx.reply.error(bad);
    return undefined;
  }
  let ms = seconds ? v * 1000n : v;
  if (flags & (F_EX | F_PX)) ms += BigInt(Date.now());
  if (ms > LLONG_MAX || ms <= 0n) {
    ctx.reply.error(bad);
    return undefined;
  }
  return Number(ms);
}

function checkLength(ctx: CommandContext, total: number): boolean {
  const limit = ctx.server.config.getNumber('proto-max-bulk-len');
  if ((ctx.client.kind !== 'master' && total > limit) || total > MAX_JS_STRING) {
    ctx.reply.error('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    return false;
  }
  return true;
}

/** setGenericCommand. Replies okReply/abortReply variants for SETNX. */
function setGeneric(
  ctx: CommandContext,
  cmd: string,
  flags: number,
  key: string,
  value: string,
  expire: string | undefined,
  intReplies: boolean,
  argv: string[],
): void {
  let ms: number | undefined;
  if (expire !== undefined) {
    ms = expireMs(ctx, cmd, expire, flags);
    if (ms === undefined) return;
  }
  if (flags & F_GET) {
    const old = readString(ctx, key);
    if (old === undefined) return;
    ctx.reply.bulk(old);
  }
  // The lookup also lazily expires the old key (counted and propagated as DEL), so skip it only when it cannot matter.
  const lookup = (flags & (F_NX | F_XX)) !== 0 || ctx.db.expiresCount() !== 0;
  const found = lookup && ctx.db.get(key) !== undefined;
  if (((flags & F_NX) && found) || ((flags & F_XX) && !found)) {
    if (!(flags & F_GET)) {
      if (intReplies) ctx.reply.integer(0);
      else ctx.reply.bulk(null);
    }
    ctx.noPropagate();
    return;
  }
  ctx.db.set(key, value, (flags & F_KEEPTTL) !== 0);
  notify(ctx, NOTIFY_STRING, 'set', key);
  if (ms !== undefined) {
    ctx.db.setExpire(key, ms);
    notify(ctx, NOTIFY_GENERIC, 'expire', key);
    ctx.propagateAs([['SET', key, value, 'PXAT', String(ms)]]);
  } else if (flags & F_GET) {
    // Replicas do not need the old value: propagate without GET.
    ctx.propagateAs([argv.filter((a, i) => i < 3 || lc(a) !== 'get')]);
  }
  if (!(flags & F_GET)) {
    if (intReplies) ctx.reply.integer(1);
    else ctx.reply.ok();
  }
}

function cmdSet(ctx: CommandContext, argv: string[]): void {
  // Plain SET key value: no options to parse (and no parse result to allocate).
  if (argv.length === 3) {
    setGeneric(ctx, 'set', 0, argv[1], argv[2], undefined, false, argv);
    return;
  }
  const parsed = parseExtended(ctx, argv, 3, true);
  if (!parsed) return;
  setGeneric(ctx, 'set', parsed.flags, argv[1], argv[2], parsed.expire, false, argv);
}

function cmdGet(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]);
  if (v !== undefined) ctx.reply.bulk(v);
}

function cmdGetex(ctx: CommandContext, argv: string[]): void {
  const parsed = parseExtended(ctx, argv, 2, false);
  if (!parsed) return;
  const key = argv[1];
  const v = readString(ctx, key);
  if (v === undefined) return;
  if (v === null) {
    ctx.reply.bulk(null);
    ctx.noPropagate();
    return;
  }
  let ms: number | undefined;
  if (parsed.expire !== undefined) {
    ms = expireMs(ctx, 'getex', parsed.expire, parsed.flags);
    if (ms === undefined) return;
  }
  ctx.reply.bulk(v);
  const now = Date.now();
  if (ms !== undefined && (parsed.flags & (F_EXAT | F_PXAT)) && ms <= now && ctx.server.replication.role() === 'master') {
    ctx.db.delete(key);
    ctx.propagateAs([[ctx.server.config.getBool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]]);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
  } else if (ms !== undefined) {
    ctx.db.setExpire(key, ms);
    ctx.propagateAs([['PEXPIREAT', key, String(ms)]]);
    notify(ctx, NOTIFY_GENERIC, 'expire', key);
  } else if ((parsed.flags & F_PERSIST) && ctx.db.persist(key)) {
    ctx.propagateAs([['PERSIST', key]]);
    notify(ctx, NOTIFY_GENERIC, 'persist', key);
  } else {
    ctx.noPropagate();
  }
}

function cmdGetdel(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]);
  if (v === undefined) return;
  ctx.reply.bulk(v);
  if (v !== null && ctx.db.delete(argv[1])) {
    ctx.propagateAs([[ctx.server.config.getBool('lazyfree-lazy-user-del') ? 'UNLINK' : 'DEL', argv[1]]]);
    notify(ctx, NOTIFY_GENERIC, 'del', argv[1]);
  } else ctx.noPropagate();
}

function cmdGetset(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]);
  if (v === undefined) return;
  ctx.reply.bulk(v);
  ctx.db.set(argv[1], argv[2]);
  notify(ctx, NOTIFY_STRING, 'set', argv[1]);
  ctx.propagateAs([['SET', argv[1], argv[2]]]);
}

function cmdMget(ctx: CommandContext, argv: string[]): void {
  const out: (string | null)[] = [];
  for (let i = 1; i < argv.length; i++) {
    const v = lookupRead(ctx, argv[i]);
    out.push(typeof v === 'string' ? v : null);
  }
  ctx.reply.bulkArray(out);
}

function cmdMset(ctx: CommandContext, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    ctx.reply.error(`ERR wrong number of arguments for '${nx ? 'msetnx' : 'mset'}' command`);
    return;
  }
  if (nx) {
    for (let i = 1; i < argv.length; i += 2) {
      if (ctx.db.get(argv[i]) !== undefined) {
        ctx.reply.integer(0);
        ctx.noPropagate();
        return;
      }
    }
  }
  for (let i = 1; i < argv.length; i += 2) {
    ctx.db.set(argv[i], argv[i + 1]);
    notify(ctx, NOTIFY_STRING, 'set', argv[i]);
  }
  if (nx) ctx.reply.integer(1);
  else ctx.reply.ok();
}

function cmdAppend(ctx: CommandContext, argv: string[]): void {
  const cur = writeString(ctx, argv[1]);
  if (cur === undefined) return;
  if (cur === null) {
    ctx.db.set(argv[1], argv[2]);
    notify(ctx, NOTIFY_STRING, 'append', argv[1]);
    ctx.reply.integer(argv[2].length);
    return;
  }
  if (!checkLength(ctx, cur.length + argv[2].length)) return;
  const next = cur + argv[2];
  ctx.db.set(argv[1], next, true);
  forceEncoding(ctx, argv[1], 'raw');
  notify(ctx, NOTIFY_STRING, 'append', argv[1]);
  ctx.reply.integer(next.length);
}

function cmdStrlen(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]);
  if (v !== undefined) ctx.reply.integer(v === null ? 0 : v.length);
}

function incrDecr(ctx: CommandContext, key: string, incr: bigint | number): void {
  const cur = writeString(ctx, key);
  if (cur === undefined) return;
  let value: bigint | number = 0;
  if (cur !== null) {
    const parsed = parseLL(cur);
    if (parsed === null) {
      ctx.reply.error(ERR_NOT_INTEGER);
      return;
    }
    value = parsed;
  }
  const next = addLL(value, incr);
  if (next === null) {
    ctx.reply.error(ERR_OVERFLOW);
    return;
  }
  ctx.db.set(key, String(next), true);
  notify(ctx, NOTIFY_STRING, 'incrby', key);
  ctx.reply.integer(next);
}

function cmdIncrBy(ctx: CommandContext, argv: string[], sign: 1 | -1): void {
  const incr = parseLL(argv[2]);
  if (incr === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (sign === -1) {
    if (incr === -9223372036854775808n) {
      ctx.reply.error('ERR decrement would overflow');
      return;
    }
    incrDecr(ctx, argv[1], typeof incr === 'number' ? -incr : -incr);
    return;
  }
  incrDecr(ctx, argv[1], incr);
}

function cmdIncrByFloat(ctx: CommandContext, argv: string[]): void {
  const key = argv[1];
  const cur = writeString(ctx, key);
  if (cur === undefined) return;
  const value = cur === null ? ZERO_LD : parseLD(cur);
  const incr = parseLD(argv[2]);
  if (value === null || incr === null) {
    ctx.reply.error(ERR_NOT_FLOAT);
    return;
  }
  const sum = addLD(value, incr);
  if (sum.inf) {
    ctx.reply.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const out = formatLD(sum);
  ctx.db.set(key, out, true);
  forceEncoding(ctx, key, out.length <= 44 ? 'embstr' : 'raw');
  notify(ctx, NOTIFY_STRING, 'incrbyfloat', key);
  ctx.reply.bulk(out);
  ctx.propagateAs([['SET', key, out, 'KEEPTTL']]);
}

function cmdGetrange(ctx: CommandContext, argv: string[]): void {
  const s0 = parseLL(argv[2]);
  const e0 = s0 === null ? null : parseLL(argv[3]);
  if (s0 === null || e0 === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const v = readString(ctx, argv[1]);
  if (v === undefined) return;
  if (v === null) {
    ctx.reply.bulk('');
    return;
  }
  let start = Number(s0);
  let end = Number(e0);
  const len = v.length;
  if (start < 0 && end < 0 && start > end) {
    ctx.reply.bulk('');
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) ctx.reply.bulk('');
  else ctx.reply.bulk(v.slice(start, end + 1));
}

function cmdSetrange(ctx: CommandContext, argv: string[]): void {
  const off = parseLL(argv[2]);
  if (off === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (off < 0) {
    ctx.reply.error('ERR offset is out of range');
    return;
  }
  const key = argv[1];
  const value = argv[3];
  const cur = writeString(ctx, key);
  if (cur === undefined) return;
  const offset = Number(off);
  if (cur === null && value.length === 0) {
    ctx.reply.integer(0);
    ctx.noPropagate();
    return;
  }
  if (cur !== null && value.length === 0) {
    ctx.reply.integer(cur.length);
    ctx.noPropagate();
    return;
  }
  if (!checkLength(ctx, offset + value.length)) {
    ctx.noPropagate();
    return;
  }
  const base = cur ?? '';
  const padded = base.length < offset ? base + '\0'.repeat(offset - base.length) : base;
  const next = padded.slice(0, offset) + value + padded.slice(offset + value.length);
  if (cur === null) ctx.db.add(key, next);
  else ctx.db.set(key, next, true);
  forceEncoding(ctx, key, 'raw');
  notify(ctx, NOTIFY_STRING, 'setrange', key);
  ctx.reply.integer(next.length);
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], walking the DP table back like Redis. */
function cmdLcs(ctx: CommandContext, argv: string[]): void {
  const av = lookupRead(ctx, argv[1]);
  const bv = lookupRead(ctx, argv[2]);
  if ((av !== undefined && typeof av !== 'string') || (bv !== undefined && typeof bv !== 'string')) {
    ctx.reply.error('ERR The specified keys must contain string values');
    return;
  }
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = lc(argv[j]);
    const more = argv.length - j - 1;
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && more >= 1) {
      const m = parseLL(argv[++j]);
      if (m === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      minMatchLen = m < 0 ? 0 : Number(m);
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (getIdx && getLen) {
    ctx.reply.error('ERR If you want both the length and indexes, please just use IDX.');
    return;
  }
  const a = av ?? '';
  const b = bv ?? '';
  const al = a.length;
  const bl = b.length;
  const w = bl + 1;
  const dp = new Uint32Array((al + 1) * w);
  for (let i = 1; i <= al; i++) {
    for (let j = 1; j <= bl; j++) {
      dp[i * w + j] =
        a.charCodeAt(i - 1) === b.charCodeAt(j - 1)
          ? dp[(i - 1) * w + j - 1] + 1
          : Math.max(dp[(i - 1) * w + j], dp[i * w + j - 1]);
    }
  }
  const total = dp[al * w + bl];
  if (getLen) {
    ctx.reply.integer(total);
    return;
  }
  const chars: string[] = [];
  const matches: number[][] = [];
  let i = al;
  let j = bl;
  let aStart = al;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars.push(a[i - 1]);
      if (aStart === al) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      i--;
      j--;
    } else {
      if (dp[(i - 1) * w + j] > dp[i * w + j - 1]) i--;
      else j--;
      if (aStart !== al) emit = true;
    }
    if (emit) {
      const len = aEnd - aStart + 1;
      if (minMatchLen === 0 || len >= minMatchLen) matches.push([aStart, aEnd, bStart, bEnd, len]);
      aStart = al;
    }
  }
  if (!getIdx) {
    ctx.reply.bulk(chars.reverse().join(''));
    return;
  }
  ctx.reply.mapHeader(2);
  ctx.reply.bulk('matches');
  ctx.reply.arrayHeader(matches.length);
  for (const [as, ae, bs, be, len] of matches) {
    ctx.reply.arrayHeader(withMatchLen ? 3 : 2);
    ctx.reply.arrayHeader(2);
    ctx.reply.integer(as);
    ctx.reply.integer(ae);
    ctx.reply.arrayHeader(2);
    ctx.reply.integer(bs);
    ctx.reply.integer(be);
    if (withMatchLen) ctx.reply.integer(len);
  }
  ctx.reply.bulk('len');
  ctx.reply.integer(total);
}

export const commands: CommandSpec[] = [
  def('get', 2, 'readonly fast', [1, 1, 1], 'read string fast', cmdGet),
  def('set', -3, 'write denyoom', [1, 1, 1], 'write string slow', cmdSet),
  def('setnx', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', (ctx, argv) =>
    setGeneric(ctx, 'setnx', F_NX, argv[1], argv[2], undefined, true, argv),
  ),
  def('setex', 4, 'write denyoom', [1, 1, 1], 'write string slow', (ctx, argv) =>
    setGeneric(ctx, 'setex', F_EX, argv[1], argv[3], argv[2], false, argv),
  ),
  def('psetex', 4, 'write denyoom', [1, 1, 1], 'write string slow', (ctx, argv) =>
    setGeneric(ctx, 'psetex', F_PX, argv[1], argv[3], argv[2], false, argv),
  ),
  def('mget', -2, 'readonly fast', [1, -1, 1], 'read string fast', cmdMget),
  def('mset', -3, 'write denyoom', [1, -1, 2], 'write string slow', (ctx, argv) => cmdMset(ctx, argv, false)),
  def('msetnx', -3, 'write denyoom', [1, -1, 2], 'write string slow', (ctx, argv) => cmdMset(ctx, argv, true)),
  def('getset', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', cmdGetset),
  def('getdel', 2, 'write fast', [1, 1, 1], 'write string fast', cmdGetdel),
  def('getex', -2, 'write fast', [1, 1, 1], 'write string fast', cmdGetex),
  def('append', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', cmdAppend),
  def('strlen', 2, 'readonly fast', [1, 1, 1], 'read string fast', cmdStrlen),
  def('incr', 2, 'write denyoom fast', [1, 1, 1], 'write string fast', (ctx, argv) => incrDecr(ctx, argv[1], 1)),
  def('decr', 2, 'write denyoom fast', [1, 1, 1], 'write string fast', (ctx, argv) => incrDecr(ctx, argv[1], -1)),
  def('incrby', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', (ctx, argv) => cmdIncrBy(ctx, argv, 1)),
  def('decrby', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', (ctx, argv) => cmdIncrBy(ctx, argv, -1)),
  def('incrbyfloat', 3, 'write denyoom fast', [1, 1, 1], 'write string fast', cmdIncrByFloat),
  def('getrange', 4, 'readonly', [1, 1, 1], 'read string slow', cmdGetrange),
  def('substr', 4, 'readonly', [1, 1, 1], 'read string slow', cmdGetrange),
  def('setrange', 4, 'write denyoom', [1, 1, 1], 'write string slow', cmdSetrange),
  def('lcs', -3, 'readonly', [1, 2, 1], 'read string slow', cmdLcs),
];
