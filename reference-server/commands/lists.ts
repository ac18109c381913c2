/**
 * List commands (Redis 7.0 t_list.c semantics), plus the argument helpers the set and sorted-set
 * families share with it (integer/double parsing as Redis's string2ll/strtod, timeouts, type lookups).
 */
import type { BlockRequest, CommandContext, CommandSpec, Reply } from './command.js';
import type { Value } from '../store/types.js';
import { typeOf } from '../store/types.js';
import { createList, RingList } from '../store/list.js';
import { afterRemoval, lookupRead, notify } from './access.js';
import { NOTIFY_LIST } from '../config/keyspace-events.js';

import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE, parseHexFloat, parseInt64 } from '../store/numbers.js';

// The shared error strings are declared once, in store/numbers.ts; the families import them from here too.
export { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE, parseInt64 };
export const ERR_NO_SUCH_KEY = 'ERR no such key';
export const ERR_INDEX_RANGE = 'ERR index out of range';

/** Replies the standard integer error (or msg) and returns null when s is not an int64. */
export function argLong(reply: Reply, s: string, msg?: string): number | null {
  const n = parseInt64(s);
  if (n === null) reply.error(msg ? `ERR ${msg}` : ERR_NOT_INTEGER);
  return n;
}

/** getPositiveLongFromObjectOrReply: an int64 >= 0; Redis uses the one message for both failures. */
export function argPositiveLong(reply: Reply, s: string, msg = 'value is out of range, must be positive'): number | null {
  return argRangeLong(reply, s, 0, Infinity, msg);
}

/** getRangeLongFromObjectOrReply: msg (when given) replaces both the parse and the range error. */
export function argRangeLong(reply: Reply, s: string, min: number, max: number, msg?: string): number | null {
  const n = parseInt64(s);
  if (n === null) {
    reply.error(msg ? `ERR ${msg}` : ERR_NOT_INTEGER);
    return null;
  }
  if (n < min || n > max) {
    reply.error(msg ? `ERR ${msg}` : `ERR value is out of range, value must between ${min} and ${max}`);
    return null;
  }
  return n;
}

/** SRANDMEMBER/ZRANDMEMBER count: any int64 but LONG_MIN, so that its negation exists. */
export function argCount(reply: Reply, s: string): number | null {
  const n = parseInt64(s);
  if (n === null) {
    reply.error(ERR_NOT_INTEGER);
    return null;
  }
  if (s === '-9223372036854775808') {
    reply.error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    return null;
  }
  return n;
}

const DEC_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INF_RE = /^[+-]?(?:inf|infinity)$/i;
const NAN_RE = /^[+-]?nan(?:\([0-9a-zA-Z_]*\))?$/i;

/**
 * Parses the whole string as C's strtod would; undefined when something is left over.
 * `range` reports overflow/underflow (errno ERANGE) with the clamped value.
 */
export function strtod(s: string): { value: number; range: boolean } | undefined {
  if (DEC_RE.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) return { value: v, range: true };
    if (v === 0 && /[1-9]/.test(s.split(/[eE]/)[0])) return { value: v, range: true };
    return { value: v, range: Math.abs(v) < 2.2250738585072014e-308 && v !== 0 };
  }
  if (INF_RE.test(s)) return { value: s[0] === '-' ? -Infinity : Infinity, range: false };
  if (NAN_RE.test(s)) return { value: NaN, range: false };
  const hex = parseHexFloat(s);
  if (hex !== undefined) return { value: hex, range: !Number.isFinite(hex) };
  return undefined;
}

function isCSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

/** getDoubleFromObject: strict strtod, no leading space, no NaN, no overflow. */
export function parseDoubleStrict(s: string): number | null {
  const n = s.length;
  if (n !== 0 && n <= 15) {
    // Plain (optionally negative) digits are exact in a double: no regex, no conversion (ZADD scores, timeouts).
    const neg = s.charCodeAt(0) === 45;
    let i = neg ? 1 : 0;
    if (i < n) {
      let acc = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        acc = acc * 10 + (c - 48);
      }
      if (i === n) return neg ? -acc : acc;
    }
  }
  if (n === 0 || isCSpace(s[0])) return null;
  const r = strtod(s);
  if (!r || Number.isNaN(r.value)) return null;
  if (r.range && (!Number.isFinite(r.value) || r.value === 0)) return null;
  return r.value;
}

export function argDouble(reply: Reply, s: string, msg?: string): number | null {
  const d = parseDoubleStrict(s);
  if (d === null) reply.error(msg ? `ERR ${msg}` : ERR_NOT_FLOAT);
  return d;
}

/**
 * Blocking timeout in seconds (a float) -> ms, 0 = forever; null after replying the error.
 * Redis parses a long double and casts ceil(t*1000) to long long: what overflows that cast (inf, 1e400,
 * 9223372036854775807) becomes negative there, so it is reported as "timeout is negative" here too.
 */
export function argTimeout(reply: Reply, s: string): number | null {
  const r = s.length === 0 || isCSpace(s[0]) ? undefined : strtod(s);
  if (!r || Number.isNaN(r.value)) {
    reply.error('ERR timeout is not a float or out of range');
    return null;
  }
  let d = r.value;
  // Below a double's range but within a long double's: still a tiny non-zero timeout.
  if (r.range && d === 0) d = s[0] === '-' ? -Number.MIN_VALUE : Number.MIN_VALUE;
  const ms = Math.ceil(d * 1000);
  if (!Number.isFinite(ms) || ms >= 9223372036854775807 || ms < 0) {
    reply.error('ERR timeout is negative');
    return null;
  }
  return ms;
}

/** True while a read-only command runs: its lookups are Redis's lookupKeyRead, which count keyspace hits/misses. */
let readLookups = false;

/** Marks read-only specs so their key lookups count keyspace_hits/keyspace_misses as Redis's do. */
export function withReadStats(specs: CommandSpec[]): CommandSpec[] {
  for (const spec of specs) {
    if (!spec.flags.includes('readonly')) continue;
    const execute = spec.execute;
    spec.execute = (ctx, argv) => {
      readLookups = true;
      try {
        return execute(ctx, argv);
      } finally {
        readLookups = false;
      }
    };
  }
  return specs;
}

/**
 * The value at key if it has the wanted type; undefined when missing; false after a WRONGTYPE reply.
 * `read` forces a counted lookup (the source keys of SINTERSTORE and friends are read lookups in Redis).
 */
export function lookupTyped(ctx: CommandContext, key: string, type: 'list' | 'set' | 'zset', read = false): Value | undefined | false {
  const v = read || readLookups ? lookupRead(ctx, key) : ctx.db.get(key);
  if (v === undefined) return undefined;
  if (typeOf(v) !== type) {
    ctx.reply.error(ERR_WRONGTYPE);
    return false;
  }
  return v;
}

/**
 * lookupTyped, then a value of the family built elsewhere (an RDB load, RESTORE) is converted once into the
 * family's own structure and stored back, so its fast paths apply from then on.
 */
export function lookupOwned<T extends Value>(
  ctx: CommandContext, key: string, type: 'list' | 'zset', owned: (v: Value) => v is T, convert: (v: Value) => T,
): T | undefined | false {
  const v = lookupTyped(ctx, key, type);
  if (v === undefined || v === false || owned(v)) return v;
  const converted = convert(v);
  ctx.db.set(key, converted, true);
  return converted;
}

const isRing = (v: Value): v is RingList => v instanceof RingList;

/** The list at key; undefined when missing; false after a WRONGTYPE reply. */
function getList(ctx: CommandContext, key: string): RingList | undefined | false {
  return lookupOwned(ctx, key, 'list', isRing, (v) => createList(v as Iterable<string>));
}

function normRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

type Where = 'left' | 'right';

function parseWhere(s: string): Where | null {
  const l = s.toLowerCase();
  return l === 'left' || l === 'right' ? l : null;
}

function push(ctx: CommandContext, argv: string[], where: Where, onlyExisting: boolean): void {
  const key = argv[1];
  let l = getList(ctx, key);
  if (l === false) return;
  if (l === undefined) {
    if (onlyExisting) {
      ctx.reply.integer(0);
      ctx.noPropagate();
      return;
    }
    l = createList();
    for (let i = 2; i < argv.length; i++) where === 'left' ? l.pushHead(argv[i]) : l.pushTail(argv[i]);
    ctx.db.add(key, l);
  } else {
    for (let i = 2; i < argv.length; i++) where === 'left' ? l.pushHead(argv[i]) : l.pushTail(argv[i]);
    ctx.db.signalModified(key);
  }
  notify(ctx, NOTIFY_LIST, where === 'left' ? 'lpush' : 'rpush', key);
  ctx.reply.integer(l.length);
  ctx.server.signalKeyReady(ctx.db, key);
}

function popRange(l: RingList, where: Where, count: number): string[] {
  const out: string[] = [];
  const n = Math.min(count, l.length);
  for (let i = 0; i < n; i++) out.push((where === 'left' ? l.popHead() : l.popTail()) as string);
  return out;
}

function pop(ctx: CommandContext, argv: string[], where: Where): void {
  if (argv.length > 3) {
    ctx.reply.error(`ERR wrong number of arguments for '${argv[0].toLowerCase()}' command`);
    return;
  }
  const hasCount = argv.length === 3;
  let count = 0;
  if (hasCount) {
    const c = argPositiveLong(ctx.reply, argv[2]);
    if (c === null) return;
    count = c;
  }
  const l = getList(ctx, argv[1]);
  if (l === false) return;
  if (l === undefined) {
    if (hasCount) ctx.reply.nullArray();
    else ctx.reply.bulk(null);
    return;
  }
  if (hasCount && count === 0) {
    ctx.reply.arrayHeader(0);
    ctx.noPropagate();
    return;
  }
  if (!hasCount) {
    ctx.reply.bulk((where === 'left' ? l.popHead() : l.popTail()) as string);
  } else {
    ctx.reply.bulkArray(popRange(l, where, count));
  }
  afterRemoval(ctx, NOTIFY_LIST, where === 'left' ? 'lpop' : 'rpop', argv[1], l.length === 0);
}

/** LMPOP/BLMPOP/BLPOP core: pops from the first non-empty list among keys; false when none. */
function popFirstNonEmpty(
  ctx: CommandContext, keys: readonly string[], where: Where, count: number, multi: boolean,
): boolean | 'error' {
  for (const key of keys) {
    const l = getList(ctx, key);
    if (l === false) return 'error';
    if (l === undefined || l.length === 0) continue;
    const popCmd = where === 'left' ? 'LPOP' : 'RPOP';
    if (multi) {
      const n = Math.min(count, l.length);
      const items = popRange(l, where, n);
      ctx.reply.arrayHeader(2);
      ctx.reply.bulk(key);
      ctx.reply.bulkArray(items);
      ctx.propagateAs([[popCmd, key, String(n)]]);
    } else {
      const v = (where === 'left' ? l.popHead() : l.popTail()) as string;
      ctx.reply.arrayHeader(2);
      ctx.reply.bulk(key);
      ctx.reply.bulk(v);
      ctx.propagateAs([[popCmd, key]]);
    }
    afterRemoval(ctx, NOTIFY_LIST, where === 'left' ? 'lpop' : 'rpop', key, l.length === 0);
    return true;
  }
  return false;
}

/**
 * Parses "numkeys key... WHERE [COUNT n]" from numkeysIdx (LMPOP/BLMPOP with LEFT|RIGHT, ZMPOP/BZMPOP with MIN|MAX);
 * null after an error reply.
 */
export function parseNumkeysWhere<W>(reply: Reply, argv: string[], numkeysIdx: number, whereOf: (arg: string) => W | null): { keys: string[]; where: W; count: number } | null {
  const numkeys = argRangeLong(reply, argv[numkeysIdx], 1, Infinity, 'numkeys should be greater than 0');
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + numkeys + 1;
  const where = whereIdx < argv.length ? whereOf(argv[whereIdx]) : null;
  if (where === null) {
    reply.error(ERR_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && argv[j].toLowerCase() === 'count' && more > 0) {
      const c = argRangeLong(reply, argv[++j], 1, Infinity, 'count should be greater than 0');
      if (c === null) return null;
      count = c;
    } else {
      reply.error(ERR_SYNTAX);
      return null;
    }
  }
  return { keys: argv.slice(numkeysIdx + 1, numkeysIdx + 1 + numkeys), where, count: count === -1 ? 1 : count };
}

function parseMpop(reply: Reply, argv: string[], numkeysIdx: number): { keys: string[]; where: Where; count: number } | null {
  return parseNumkeysWhere(reply, argv, numkeysIdx, parseWhere);
}

function blockingPop(ctx: CommandContext, keys: string[], where: Where, timeoutMs: number, count: number, multi: boolean): void | BlockRequest {
  const served = popFirstNonEmpty(ctx, keys, where, count, multi);
  if (served !== false) return;
  return blockOnType(keys, timeoutMs, 'list', (c, key) => popFirstNonEmpty(c, [key], where, count, multi) === true);
}

/**
 * A client blocked on keys holding one type (BLPOP, BZPOPMIN, ...): the key signalled ready (else each key in turn)
 * is served once it holds that type; a key of another type, or still empty, leaves the client blocked, as in
 * Redis 7.0. A timeout answers a null array.
 */
export function blockOnType(keys: string[], timeoutMs: number, type: 'list' | 'zset', serve: (c: CommandContext, key: string) => boolean): BlockRequest {
  return {
    keys,
    timeoutMs,
    retry: (c, readyKey) => {
      for (const key of readyKey !== undefined && keys.includes(readyKey) ? [readyKey] : keys) {
        const v = c.db.get(key);
        if (v === undefined || typeOf(v) !== type) continue;
        return serve(c, key);
      }
      return false;
    },
    onTimeout: (reply) => reply.nullArray(),
  };
}

/** Pops from src and pushes to dst, replying the element; 'empty' when src has nothing. */
function moveOne(ctx: CommandContext, src: string, dst: string, from: Where, to: Where): 'ok' | 'empty' | 'error' {
  const sl = getList(ctx, src);
  if (sl === false) return 'error';
  if (sl === undefined || sl.length === 0) return 'empty';
  let dl = getList(ctx, dst);
  if (dl === false) return 'error';
  const v = (from === 'left' ? sl.popHead() : sl.popTail()) as string;
  if (dl === undefined) {
    dl = createList();
    ctx.db.add(dst, dl);
  } else {
    ctx.db.signalModified(dst);
  }
  to === 'left' ? dl.pushHead(v) : dl.pushTail(v);
  notify(ctx, NOTIFY_LIST, to === 'left' ? 'lpush' : 'rpush', dst);
  ctx.reply.bulk(v);
  // Redis notifies the pop side after the push; with src === dst the list stays non-empty.
  afterRemoval(ctx, NOTIFY_LIST, from === 'left' ? 'lpop' : 'rpop', src, sl.length === 0);
  ctx.server.signalKeyReady(ctx.db, dst);
  return 'ok';
}

function blockingMove(ctx: CommandContext, argv: string[], from: Where, to: Where, timeoutMs: number, asRpoplpush: boolean): void | BlockRequest {
  const src = argv[1];
  const dst = argv[2];
  const propagated = asRpoplpush ? ['RPOPLPUSH', src, dst] : ['LMOVE', src, dst, from, to];
  const r = moveOne(ctx, src, dst, from, to);
  if (r === 'error') return;
  if (r === 'ok') {
    ctx.propagateAs([asRpoplpush ? ['RPOPLPUSH', src, dst] : ['LMOVE', src, dst, argv[3], argv[4]]]);
    return;
  }
  // Inside EXEC the server times the request out synchronously; Redis answers a plain null there, not a null array.
  let denied = true;
  queueMicrotask(() => {
    denied = false;
  });
  return {
    keys: [src],
    timeoutMs,
    retry: (c) => {
      const v = c.db.get(src);
      if (v === undefined || typeOf(v) !== 'list') return false;
      const res = moveOne(c, src, dst, from, to);
      if (res === 'ok') c.propagateAs([propagated]);
      return res !== 'empty';
    },
    onTimeout: (reply) => (denied ? reply.bulk(null) : reply.nullArray()),
  };
}

const k1 = { firstKey: 1, lastKey: 1, step: 1 };
const k12 = { firstKey: 1, lastKey: 2, step: 1 };
const W_FAST = ['write', 'list', 'fast'];
const R_FAST = ['read', 'list', 'fast'];
const W_SLOW = ['write', 'list', 'slow'];
const R_SLOW = ['read', 'list', 'slow'];
const W_BLOCK = ['write', 'list', 'slow', 'blocking'];

/** Keys of "numkeys key..." commands for COMMAND GETKEYS and cluster routing. */
export function numkeysKeys(argv: readonly string[], numkeysIdx: number, extraFirst = false): string[] {
  const n = parseInt64(argv[numkeysIdx] ?? '');
  if (n === null || n < 1 || numkeysIdx + n >= argv.length) return [];
  const keys = argv.slice(numkeysIdx + 1, numkeysIdx + 1 + n);
  return extraFirst ? [argv[1], ...keys] : keys;
}

export const commands: CommandSpec[] = withReadStats([
  { name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => push(ctx, argv, 'left', false) },
  { name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => push(ctx, argv, 'right', false) },
  { name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => push(ctx, argv, 'left', true) },
  { name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => push(ctx, argv, 'right', true) },
  { name: 'lpop', arity: -2, flags: ['write', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => pop(ctx, argv, 'left') },
  { name: 'rpop', arity: -2, flags: ['write', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => pop(ctx, argv, 'right') },
  { name: 'llen', arity: 2, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => {
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      ctx.reply.integer(l ? l.length : 0);
    } },
  { name: 'lrange', arity: 4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => {
      const start = argLong(ctx.reply, argv[2]);
      if (start === null) return;
      const end = argLong(ctx.reply, argv[3]);
      if (end === null) return;
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      const r = l ? normRange(start, end, l.length) : null;
      ctx.reply.bulkArray(l && r ? l.range(r[0], r[1]) : []);
    } },
  { name: 'lindex', arity: 3, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => {
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        ctx.reply.bulk(null);
        return;
      }
      const i = argLong(ctx.reply, argv[2]);
      if (i === null) return;
      ctx.reply.bulk(l.at(i) ?? null);
    } },
  { name: 'lset', arity: 4, flags: ['write', 'denyoom'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => {
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        ctx.reply.error(ERR_NO_SUCH_KEY);
        return;
      }
      const i = argLong(ctx.reply, argv[2]);
      if (i === null) return;
      if (!l.set(i, argv[3])) {
        ctx.reply.error(ERR_INDEX_RANGE);
        return;
      }
      ctx.db.signalModified(argv[1]);
      notify(ctx, NOTIFY_LIST, 'lset', argv[1]);
      ctx.reply.ok();
    } },
  { name: 'linsert', arity: 5, flags: ['write', 'denyoom'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => {
      const w = argv[2].toLowerCase();
      if (w !== 'before' && w !== 'after') {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        ctx.reply.integer(0);
        ctx.noPropagate();
        return;
      }
      let pos = -1;
      let i = 0;
      for (const v of l) {
        if (v === argv[3]) {
          pos = i;
          break;
        }
        i++;
      }
      if (pos < 0) {
        ctx.reply.integer(-1);
        ctx.noPropagate();
        return;
      }
      l.insertAt(w === 'before' ? pos : pos + 1, argv[4]);
      ctx.db.signalModified(argv[1]);
      notify(ctx, NOTIFY_LIST, 'linsert', argv[1]);
      ctx.reply.integer(l.length);
    } },
  { name: 'lrem', arity: 4, flags: ['write'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => {
      const count = argLong(ctx.reply, argv[2]);
      if (count === null) return;
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        ctx.reply.integer(0);
        ctx.noPropagate();
        return;
      }
      const limit = Math.abs(count);
      const positions: number[] = [];
      if (count >= 0) {
        for (let i = 0; i < l.length && (limit === 0 || positions.length < limit); i++) if (l.at(i) === argv[3]) positions.push(i);
      } else {
        for (let i = l.length - 1; i >= 0 && positions.length < limit; i--) if (l.at(i) === argv[3]) positions.push(i);
        positions.reverse();
      }
      if (positions.length > 0) {
        l.removePositions(positions);
        afterRemoval(ctx, NOTIFY_LIST, 'lrem', argv[1], l.length === 0);
      } else {
        ctx.noPropagate();
      }
      ctx.reply.integer(positions.length);
    } },
  { name: 'ltrim', arity: 4, flags: ['write'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => {
      const start = argLong(ctx.reply, argv[2]);
      if (start === null) return;
      const end = argLong(ctx.reply, argv[3]);
      if (end === null) return;
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        ctx.reply.ok();
        return;
      }
      const r = normRange(start, end, l.length);
      if (r) l.trim(r[0], r[1]);
      else l.replaceAll([]);
      afterRemoval(ctx, NOTIFY_LIST, 'ltrim', argv[1], l.length === 0);
      ctx.reply.ok();
    } },
  { name: 'lpos', arity: -3, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => {
      let rank = 1;
      let rankArg = '1';
      let count = -1;
      let maxlen = 0;
      for (let j = 3; j < argv.length; j++) {
        const opt = argv[j].toLowerCase();
        const more = argv.length - 1 - j;
        if (opt === 'rank' && more > 0) {
          rankArg = argv[j + 1];
          const r = argLong(ctx.reply, argv[++j]);
          if (r === null) return;
          if (r === 0) {
            ctx.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            return;
          }
          rank = r;
        } else if (opt === 'count' && more > 0) {
          const c = argPositiveLong(ctx.reply, argv[++j], "COUNT can't be negative");
          if (c === null) return;
          count = c;
        } else if (opt === 'maxlen' && more > 0) {
          const m = argPositiveLong(ctx.reply, argv[++j], "MAXLEN can't be negative");
          if (m === null) return;
          maxlen = m;
        } else {
          ctx.reply.error(ERR_SYNTAX);
          return;
        }
      }
      const fromTail = rank < 0;
      // Redis negates LONG_MIN into itself: every match then qualifies and COUNT never stops the scan.
      const rankIsLongMin = rankArg === '-9223372036854775808';
      if (rankIsLongMin) rank = 1;
      else if (fromTail) rank = -rank;
      const l = getList(ctx, argv[1]);
      if (l === false) return;
      if (l === undefined) {
        if (count !== -1) ctx.reply.arrayHeader(0);
        else ctx.reply.bulk(null);
        return;
      }
      const len = l.length;
      const found: number[] = [];
      let matches = 0;
      for (let n = 0; n < len && (maxlen === 0 || n < maxlen); n++) {
        const idx = fromTail ? len - 1 - n : n;
        if (l.at(idx) !== argv[2]) continue;
        matches++;
        if (matches < rank) continue;
        found.push(idx);
        if (count === -1 || (count !== 0 && !rankIsLongMin && found.length >= count)) break;
      }
      if (count !== -1) {
        ctx.reply.arrayHeader(found.length);
        for (const i of found) ctx.reply.integer(i);
      } else if (found.length > 0) ctx.reply.integer(found[0]);
      else ctx.reply.bulk(null);
    } },
  { name: 'lmove', arity: 5, flags: ['write', 'denyoom'], ...k12, categories: W_SLOW,
    execute: (ctx, argv) => {
      const from = parseWhere(argv[3]);
      const to = from ? parseWhere(argv[4]) : null;
      if (!from || !to) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      if (moveOne(ctx, argv[1], argv[2], from, to) === 'empty') {
        ctx.reply.bulk(null);
        ctx.noPropagate();
      }
    } },
  { name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], ...k12, categories: W_SLOW,
    execute: (ctx, argv) => {
      if (moveOne(ctx, argv[1], argv[2], 'right', 'left') === 'empty') {
        ctx.reply.bulk(null);
        ctx.noPropagate();
      }
    } },
  { name: 'lmpop', arity: -4, flags: ['write', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: W_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => {
      const p = parseMpop(ctx.reply, argv, 1);
      if (!p) return;
      const r = popFirstNonEmpty(ctx, p.keys, p.where, p.count, true);
      if (r === false) {
        ctx.reply.nullArray();
        ctx.noPropagate();
      }
    } },
  { name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, step: 1, categories: W_BLOCK,
    execute: (ctx, argv) => {
      const t = argTimeout(ctx.reply, argv[argv.length - 1]);
      if (t === null) return;
      return blockingPop(ctx, argv.slice(1, -1), 'left', t, 1, false);
    } },
  { name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, step: 1, categories: W_BLOCK,
    execute: (ctx, argv) => {
      const t = argTimeout(ctx.reply, argv[argv.length - 1]);
      if (t === null) return;
      return blockingPop(ctx, argv.slice(1, -1), 'right', t, 1, false);
    } },
  { name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], ...k12, categories: W_BLOCK,
    execute: (ctx, argv) => {
      const from = parseWhere(argv[3]);
      const to = from ? parseWhere(argv[4]) : null;
      if (!from || !to) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      const t = argTimeout(ctx.reply, argv[5]);
      if (t === null) return;
      return blockingMove(ctx, argv, from, to, t, false);
    } },
  { name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], ...k12, categories: W_BLOCK,
    execute: (ctx, argv) => {
      const t = argTimeout(ctx.reply, argv[3]);
      if (t === null) return;
      return blockingMove(ctx, argv, 'right', 'left', t, true);
    } },
  { name: 'blmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: W_BLOCK,
    getKeys: (argv) => numkeysKeys(argv, 2),
    execute: (ctx, argv) => {
      const p = parseMpop(ctx.reply, argv, 2);
      if (!p) return;
      const t = argTimeout(ctx.reply, argv[1]);
      if (t === null) return;
      return blockingPop(ctx, p.keys, p.where, t, p.count, true);
    } },
]);
