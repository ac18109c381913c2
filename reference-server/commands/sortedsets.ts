/** Sorted-set commands (Redis 7.0 t_zset.c semantics) over store/zset.ts's SortedSet. */
import type { BlockRequest, CommandContext, CommandSpec, Reply } from './command.js';
import type { RSet, RZSet, Value } from '../store/types.js';
import { typeOf } from '../store/types.js';
import { createZSet, SortedSet, type LexRange, type ScoreRange, type ZCursor } from '../store/zset.js';
import { formatDouble17g } from '../resp/writer.js';
import { globMatch } from '../server/glob.js';
import { afterRemoval, lookupRead, notify } from './access.js';
import { NOTIFY_GENERIC, NOTIFY_ZSET } from '../config/keyspace-events.js';
import {
  argCount, argDouble, argLong, blockOnType, parseNumkeysWhere, argPositiveLong, argRangeLong, argTimeout, ERR_SYNTAX, ERR_WRONGTYPE, lookupOwned, lookupTyped, withReadStats,
  numkeysKeys, strtod,
} from './lists.js';
import { hashScanStep, parseCursor, parseScanOptions } from './sets.js';

type Entry = [member: string, score: number];

/** A sorted set built elsewhere copied once into our structure (the caller stores it back). */
function toSortedSet(ctx: CommandContext, v: Value): SortedSet {
  const z = createZSet(ctx.server.encodingLimits);
  for (const [m, s] of (v as RZSet).entries()) z.add(m, s);
  z.settleEncoding();
  return z;
}

const isSortedSet = (v: Value): v is SortedSet => v instanceof SortedSet;

function adopt(ctx: CommandContext, key: string, v: Value): SortedSet {
  if (isSortedSet(v)) return v;
  const z = toSortedSet(ctx, v);
  ctx.db.set(key, z, true);
  return z;
}

/** The zset at key; undefined when missing; false after a WRONGTYPE reply. */
function getZ(ctx: CommandContext, key: string): SortedSet | undefined | false {
  return lookupOwned(ctx, key, 'zset', isSortedSet, (v) => toSortedSet(ctx, v));
}

/** One score bound as zslParseRange reads it (strtod: leading spaces and "" allowed, NaN not). */
function parseScoreBound(s: string): { v: number; ex: boolean } | null {
  let ex = false;
  if (s[0] === '(') {
    ex = true;
    s = s.slice(1);
  }
  if (s.length === 0) return { v: 0, ex };
  const t = s.replace(/^[ \t\n\r\v\f]+/, '');
  if (t.length === 0) return null;
  const r = strtod(t);
  if (!r || Number.isNaN(r.value)) return null;
  return { v: r.value, ex };
}

function parseScoreRange(min: string, max: string): ScoreRange | null {
  const a = parseScoreBound(min);
  const b = parseScoreBound(max);
  if (!a || !b) return null;
  return { min: a.v, max: b.v, minex: a.ex, maxex: b.ex };
}

type LexBound = { kind: 'min' } | { kind: 'max' } | { kind: 'val'; v: string; ex: boolean };

function parseLexBound(s: string): LexBound | null {
  switch (s[0]) {
    case '+': return s.length === 1 ? { kind: 'max' } : null;
    case '-': return s.length === 1 ? { kind: 'min' } : null;
    case '(': return { kind: 'val', v: s.slice(1), ex: true };
    case '[': return { kind: 'val', v: s.slice(1), ex: false };
    default: return null;
  }
}

function parseLexRange(min: string, max: string): LexRange | null {
  const a = parseLexBound(min);
  const b = parseLexBound(max);
  if (!a || !b) return null;
  const r: LexRange = { min: null, max: null, minex: false, maxex: false };
  if (a.kind === 'max' || b.kind === 'min') r.empty = true;
  if (a.kind === 'val') {
    r.min = a.v;
    r.minex = a.ex;
  }
  if (b.kind === 'val') {
    r.max = b.v;
    r.maxex = b.ex;
  }
  return r;
}

const ERR_MINMAX_FLOAT = 'ERR min or max is not a float';
const ERR_MINMAX_LEX = 'ERR min or max not valid string range item';

/** Writes member/score pairs: flat in RESP2, [member, score] pairs in RESP3. */
function replyWithScores(reply: Reply, entries: readonly Entry[], withScores: boolean): void {
  if (!withScores) {
    reply.bulkArray(entries.map((e) => e[0]));
    return;
  }
  if (reply.resp === 2) {
    reply.arrayHeader(entries.length * 2);
    for (const [m, s] of entries) {
      reply.bulk(m);
      reply.double(s);
    }
  } else {
    reply.arrayHeader(entries.length);
    for (const [m, s] of entries) {
      reply.arrayHeader(2);
      reply.bulk(m);
      reply.double(s);
    }
  }
}

// ---------------------------------------------------------------- ZADD / ZINCRBY

function zaddGeneric(ctx: CommandContext, argv: string[], incrCmd: boolean): void {
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrCmd;
  let idx = 2;
  for (; idx < argv.length; idx++) {
    const o = argv[idx].toLowerCase();
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'ch') ch = true;
    else if (o === 'incr') incr = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else break;
  }
  const n = argv.length - idx;
  if (n % 2 !== 0 || n === 0) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  const elements = n / 2;
  if (nx && xx) {
    ctx.reply.error('ERR XX and NX options at the same time are not compatible');
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.reply.error('ERR GT, LT, and/or NX options at the same time are not compatible');
    return;
  }
  if (incr && elements > 1) {
    ctx.reply.error('ERR INCR option supports a single increment-element pair');
    return;
  }
  const scores: number[] = [];
  for (let j = 0; j < elements; j++) {
    const d = argDouble(ctx.reply, argv[idx + j * 2]);
    if (d === null) return;
    scores.push(d);
  }
  const key = argv[1];
  let z = getZ(ctx, key);
  if (z === false) return;
  let added = 0, updated = 0, processed = 0;
  let lastScore = 0;
  let created = false;
  if (z === undefined && !xx) {
    z = createZSet(ctx.server.encodingLimits);
    const limits = ctx.server.encodingLimits;
    if (limits.zsetMaxListpackEntries === 0 || argv[idx + 1].length > limits.zsetMaxListpackValue) z.forceSkiplist();
    ctx.db.add(key, z);
    created = true;
  }
  let nanError = false;
  if (z !== undefined) {
    for (let j = 0; j < elements; j++) {
      const m = argv[idx + 1 + j * 2];
      let score = scores[j];
      const cur = z.score(m);
      if (cur !== undefined) {
        if (nx) continue;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) {
            nanError = true;
            break;
          }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) continue;
        processed++;
        lastScore = score;
        if (score !== cur) {
          updated++;
          z.updateScore(m, cur, score);
        }
      } else if (!xx) {
        z.insertNew(m, score);
        added++;
        processed++;
        lastScore = score;
      }
    }
  }
  if (added || updated) {
    ctx.db.signalModified(key);
    ctx.server.signalKeyReady(ctx.db, key);
    notify(ctx, NOTIFY_ZSET, incrCmd || incr ? 'zincr' : 'zadd', key);
  } else if (!created) {
    ctx.noPropagate();
  }
  if (nanError) {
    ctx.reply.error('ERR resulting score is not a number (NaN)');
    return;
  }
  if (incr) {
    if (processed) ctx.reply.double(lastScore);
    else ctx.reply.bulk(null);
  } else {
    ctx.reply.integer(ch ? added + updated : added);
  }
}

// ---------------------------------------------------------------- ZRANGE family

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

function collectRank(z: SortedSet, start: number, end: number, rev: boolean): Entry[] {
  const len = z.size;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return [];
  if (end >= len) end = len - 1;
  return z.rangeByRank(start, end, rev);
}

function walk(
  z: SortedSet, first: ZCursor | null, rev: boolean, offset: number, limit: number, inRange: (n: ZCursor) => boolean,
): Entry[] {
  const out: Entry[] = [];
  let n = first;
  // Redis steps `offset` nodes with `while (ln && offset--)`: a negative offset walks off the end.
  if (offset < 0) return out;
  while (n && offset > 0) {
    n = rev ? z.prev(n) : z.next(n);
    offset--;
  }
  while (n && limit !== 0) {
    if (!inRange(n)) break;
    out.push([n.member, n.score]);
    n = rev ? z.prev(n) : z.next(n);
    if (limit > 0) limit--;
  }
  return out;
}

function collectScore(z: SortedSet, r: ScoreRange, offset: number, limit: number, rev: boolean): Entry[] {
  if (offset > 0 && offset >= z.size) return [];
  const first = rev ? z.lastInScoreRange(r) : z.firstInScoreRange(r);
  return walk(z, first, rev, offset, limit, (n) => (rev ? n.score > r.min || (!r.minex && n.score === r.min) : n.score < r.max || (!r.maxex && n.score === r.max)));
}

function collectLex(z: SortedSet, r: LexRange, offset: number, limit: number, rev: boolean): Entry[] {
  const first = rev ? z.lastInLexRange(r) : z.firstInLexRange(r);
  return walk(z, first, rev, offset, limit, (n) => {
    if (rev) return r.min === null || (r.minex ? n.member > r.min : n.member >= r.min);
    return r.max === null || (r.maxex ? n.member < r.max : n.member <= r.max);
  });
}

/** Builds a new zset from entries for a *STORE destination and stores it (or deletes dst when empty). */
function storeResult(ctx: CommandContext, dst: string, entries: readonly Entry[], sizeHint: number): void {
  if (entries.length === 0) {
    if (!ctx.db.delete(dst)) ctx.noPropagate();
    else notify(ctx, NOTIFY_GENERIC, 'del', dst);
    ctx.reply.integer(0);
    return;
  }
  const z = createZSet(ctx.server.encodingLimits);
  if (sizeHint > ctx.server.encodingLimits.zsetMaxListpackEntries) z.forceSkiplist();
  for (const [m, s] of entries) z.add(m, s);
  ctx.db.set(dst, z);
  ctx.server.signalKeyReady(ctx.db, dst);
  notify(ctx, NOTIFY_ZSET, 'zrangestore', dst);
  ctx.reply.integer(z.size);
}

function zrangeGeneric(ctx: CommandContext, argv: string[], argStart: number, dst: string | null, rangeType: RangeType, direction: Direction): void {
  const reply = ctx.reply;
  const key = argv[argStart];
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let limitGiven = false;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const o = argv[j].toLowerCase();
    if (dst === null && o === 'withscores') withScores = true;
    else if (o === 'limit' && left >= 2) {
      const off = argLong(reply, argv[j + 1]);
      if (off === null) return;
      const lim = argLong(reply, argv[j + 2]);
      if (lim === null) return;
      offset = off;
      limit = lim;
      limitGiven = lim !== -1;
      j += 2;
    } else if (direction === 'auto' && o === 'rev') direction = 'reverse';
    else if (rangeType === 'auto' && o === 'bylex') rangeType = 'lex';
    else if (rangeType === 'auto' && o === 'byscore') rangeType = 'score';
    else {
      reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (direction === 'auto') direction = 'forward';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limitGiven && rangeType === 'rank') {
    reply.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    return;
  }
  if (withScores && rangeType === 'lex') {
    reply.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    return;
  }
  const rev = direction === 'reverse';
  if (rev && rangeType !== 'rank') [minIdx, maxIdx] = [maxIdx, minIdx];
  let start = 0, end = 0;
  let sr: ScoreRange | null = null;
  let lr: LexRange | null = null;
  if (rangeType === 'rank') {
    const a = argLong(reply, argv[minIdx]);
    if (a === null) return;
    const b = argLong(reply, argv[maxIdx]);
    if (b === null) return;
    start = a;
    end = b;
  } else if (rangeType === 'score') {
    sr = parseScoreRange(argv[minIdx], argv[maxIdx]);
    if (!sr) {
      reply.error(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    lr = parseLexRange(argv[minIdx], argv[maxIdx]);
    if (!lr) {
      reply.error(ERR_MINMAX_LEX);
      return;
    }
  }
  const v = lookupRead(ctx, key);
  if (v === undefined) {
    if (dst !== null) storeResult(ctx, dst, [], -1);
    else reply.arrayHeader(0);
    return;
  }
  if (typeOf(v) !== 'zset') {
    reply.error(ERR_WRONGTYPE);
    return;
  }
  const z = adopt(ctx, key, v);
  let entries: Entry[];
  let hint = -1;
  if (rangeType === 'rank') {
    entries = collectRank(z, start, end, rev);
    hint = entries.length;
  } else if (rangeType === 'score') entries = collectScore(z, sr as ScoreRange, offset, limit, rev);
  else entries = collectLex(z, lr as LexRange, offset, limit, rev);
  if (dst !== null) storeResult(ctx, dst, entries, hint);
  else replyWithScores(reply, entries, withScores);
}

function zremrange(ctx: CommandContext, argv: string[], type: 'rank' | 'score' | 'lex'): void {
  const key = argv[1];
  let start = 0, end = 0;
  let sr: ScoreRange | null = null;
  let lr: LexRange | null = null;
  if (type === 'rank') {
    const a = argLong(ctx.reply, argv[2]);
    if (a === null) return;
    const b = argLong(ctx.reply, argv[3]);
    if (b === null) return;
    start = a;
    end = b;
  } else if (type === 'score') {
    sr = parseScoreRange(argv[2], argv[3]);
    if (!sr) {
      ctx.reply.error(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    lr = parseLexRange(argv[2], argv[3]);
    if (!lr) {
      ctx.reply.error(ERR_MINMAX_LEX);
      return;
    }
  }
  const z = getZ(ctx, key);
  if (z === false) return;
  if (z === undefined) {
    ctx.reply.integer(0);
    ctx.noPropagate();
    return;
  }
  let victims: Entry[];
  if (type === 'rank') victims = collectRank(z, start, end, false);
  else if (type === 'score') victims = collectScore(z, sr as ScoreRange, 0, -1, false);
  else victims = collectLex(z, lr as LexRange, 0, -1, false);
  for (const [m] of victims) z.remove(m);
  if (victims.length > 0) afterRemoval(ctx, NOTIFY_ZSET, type === 'rank' ? 'zremrangebyrank' : type === 'score' ? 'zremrangebyscore' : 'zremrangebylex', key, z.size === 0);
  else ctx.noPropagate();
  ctx.reply.integer(victims.length);
}

// ---------------------------------------------------------------- pops

type MinMax = 'min' | 'max';

/**
 * genericZpopCommand: pops from the first existing key. count -1 = single pop.
 * emitKey/nested select the reply shape of ZPOP*, BZPOP* and [B]ZMPOP.
 */
function zpopGeneric(
  ctx: CommandContext, keys: readonly string[], where: MinMax, emitKey: boolean, count: number, nested: boolean, nilWhenEmpty: boolean,
): 'served' | 'none' | 'error' {
  let key: string | undefined;
  let z: SortedSet | undefined;
  for (const k of keys) {
    const got = getZ(ctx, k);
    if (got === false) return 'error';
    if (got === undefined) continue;
    key = k;
    z = got;
    break;
  }
  const reply = ctx.reply;
  if (!z || key === undefined) {
    if (nilWhenEmpty) reply.nullArray();
    else reply.arrayHeader(0);
    return 'none';
  }
  if (count === 0) {
    reply.arrayHeader(0);
    return 'none';
  }
  const n = Math.min(count === -1 ? 1 : count, z.size);
  const popped: Entry[] = [];
  for (let i = 0; i < n; i++) popped.push((where === 'min' ? z.popMin() : z.popMax()) as Entry);
  if (!nested && !emitKey) reply.arrayHeader(n * 2);
  else if (nested && !emitKey) reply.arrayHeader(n);
  else if (!nested && emitKey) {
    reply.arrayHeader(n * 2 + 1);
    reply.bulk(key);
  } else {
    reply.arrayHeader(2);
    reply.bulk(key);
    reply.arrayHeader(n);
  }
  for (const [m, s] of popped) {
    if (nested) reply.arrayHeader(2);
    reply.bulk(m);
    reply.double(s);
  }
  afterRemoval(ctx, NOTIFY_ZSET, where === 'min' ? 'zpopmin' : 'zpopmax', key, z.size === 0);
  return 'served';
}

function popCmdName(where: MinMax): string {
  return where === 'min' ? 'ZPOPMIN' : 'ZPOPMAX';
}

function zpopMinMax(ctx: CommandContext, argv: string[], where: MinMax): void {
  if (argv.length > 3) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  let count = -1;
  if (argv.length === 3) {
    const c = argPositiveLong(ctx.reply, argv[2]);
    if (c === null) return;
    count = c;
  }
  const nested = ctx.reply.resp > 2 && count !== -1;
  if (zpopGeneric(ctx, [argv[1]], where, false, count, nested, false) !== 'served') ctx.noPropagate();
}

/** Pops (with key) from the first non-empty zset among keys, propagating ZPOPMIN/ZPOPMAX. */
function zpopForKeys(ctx: CommandContext, keys: readonly string[], where: MinMax, count: number, nested: boolean): 'served' | 'none' | 'error' {
  for (const key of keys) {
    const z = getZ(ctx, key);
    if (z === false) return 'error';
    if (z === undefined || z.size === 0) continue;
    const size = z.size;
    zpopGeneric(ctx, [key], where, true, count, nested, nested);
    ctx.propagateAs([count === -1 ? [popCmdName(where), key] : [popCmdName(where), key, String(Math.min(count, size))]]);
    return 'served';
  }
  return 'none';
}

function blockingZpop(ctx: CommandContext, keys: string[], where: MinMax, timeoutMs: number, count: number, nested: boolean): void | BlockRequest {
  const r = zpopForKeys(ctx, keys, where, count, nested);
  if (r !== 'none') return;
  return blockOnType(keys, timeoutMs, 'zset', (c, key) => zpopForKeys(c, [key], where, count, nested) === 'served');
}

function parseZmpop(reply: Reply, argv: string[], numkeysIdx: number): { keys: string[]; where: MinMax; count: number } | null {
  return parseNumkeysWhere<MinMax>(reply, argv, numkeysIdx, (a) => {
    const w = a.toLowerCase();
    return w === 'min' || w === 'max' ? w : null;
  });
}

// ---------------------------------------------------------------- ZUNION / ZINTER / ZDIFF

type Aggregate = 'sum' | 'min' | 'max';

function aggregate(target: number, val: number, agg: Aggregate): number {
  if (agg === 'sum') {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (agg === 'min') return val < target ? val : target;
  return val > target ? val : target;
}

interface Source {
  value: SortedSet | RSet | null;
  weight: number;
}

function srcSize(s: Source): number {
  if (!s.value) return 0;
  return s.value instanceof Set ? s.value.size : s.value.size;
}

function srcScore(s: Source, member: string): number | undefined {
  if (!s.value) return undefined;
  if (s.value instanceof Set) return s.value.has(member) ? 1 : undefined;
  return s.value.score(member);
}

function* srcEntries(s: Source): Generator<Entry> {
  if (!s.value) return;
  if (s.value instanceof Set) {
    for (const m of s.value) yield [m, 1];
  } else {
    yield* s.value.entries();
  }
}

function sortEntries(map: Map<string, number>): Entry[] {
  const out = [...map.entries()];
  out.sort((a, b) => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}

function zsetOp(ctx: CommandContext, argv: string[], dst: string | null, numkeysIdx: number, op: 'union' | 'inter' | 'diff', cardOnly: boolean): void {
  const reply = ctx.reply;
  const setnum = argLong(reply, argv[numkeysIdx]);
  if (setnum === null) return;
  if (setnum < 1) {
    reply.error(`ERR at least 1 input key is needed for '${argv[0].toLowerCase()}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysIdx + 1)) {
    reply.error(ERR_SYNTAX);
    return;
  }
  const srcs: Source[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupRead(ctx, argv[j]);
    if (v === undefined) {
      srcs.push({ value: null, weight: 1 });
      continue;
    }
    const t = typeOf(v);
    if (t !== 'zset' && t !== 'set') {
      reply.error(ERR_WRONGTYPE);
      return;
    }
    srcs.push({ value: t === 'zset' ? adopt(ctx, argv[j], v) : (v as RSet), weight: 1 });
  }
  let agg: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const o = argv[j].toLowerCase();
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && o === 'weights') {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = argDouble(reply, argv[j], 'weight value is not a float');
        if (w === null) return;
        srcs[i].weight = w;
      }
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && o === 'aggregate') {
      const a = argv[j + 1].toLowerCase();
      if (a !== 'sum' && a !== 'min' && a !== 'max') {
        reply.error(ERR_SYNTAX);
        return;
      }
      agg = a;
      j += 2;
    } else if (remaining >= 1 && dst === null && !cardOnly && o === 'withscores') {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && o === 'limit') {
      const l = argPositiveLong(reply, argv[j + 1], "LIMIT can't be negative");
      if (l === null) return;
      limit = l;
      j += 2;
    } else {
      reply.error(ERR_SYNTAX);
      return;
    }
  }
  const ordered = op === 'diff' ? srcs : [...srcs].sort((a, b) => srcSize(a) - srcSize(b));
  const acc = new Map<string, number>();
  let cardinality = 0;
  if (op === 'inter') {
    if (srcSize(ordered[0]) > 0) {
      outer: for (const [m, s0] of srcEntries(ordered[0])) {
        let score = ordered[0].weight * s0;
        if (Number.isNaN(score)) score = 0;
        for (let k = 1; k < ordered.length; k++) {
          const v = ordered[k].value === ordered[0].value ? s0 : srcScore(ordered[k], m);
          if (v === undefined) continue outer;
          score = aggregate(score, v * ordered[k].weight, agg);
        }
        if (cardOnly) {
          cardinality++;
          if (limit && cardinality >= limit) break;
        } else acc.set(m, score);
      }
    }
  } else if (op === 'union') {
    for (const src of ordered) {
      for (const [m, s] of srcEntries(src)) {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? score : aggregate(cur, score, agg));
      }
    }
  } else {
    const first = ordered[0];
    for (const [m, s] of srcEntries(first)) {
      let keep = true;
      for (let k = 1; k < ordered.length && keep; k++) {
        if (ordered[k].value === first.value || srcScore(ordered[k], m) !== undefined) keep = false;
      }
      if (keep) acc.set(m, s);
    }
  }
  if (cardOnly) {
    reply.integer(cardinality);
    return;
  }
  const entries = sortEntries(acc);
  if (dst !== null) {
    if (entries.length === 0) {
      if (!ctx.db.delete(dst)) ctx.noPropagate();
      else notify(ctx, NOTIFY_GENERIC, 'del', dst);
      reply.integer(0);
      return;
    }
    const z = createZSet(ctx.server.encodingLimits);
    z.forceSkiplist();
    for (const [m, s] of entries) z.add(m, s);
    z.settleEncoding();
    ctx.db.set(dst, z);
    ctx.server.signalKeyReady(ctx.db, dst);
    notify(ctx, NOTIFY_ZSET, op === 'union' ? 'zunionstore' : op === 'inter' ? 'zinterstore' : 'zdiffstore', dst);
    reply.integer(z.size);
    return;
  }
  replyWithScores(reply, entries, withScores);
}

// ---------------------------------------------------------------- ZRANDMEMBER / ZSCAN

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

function zrandmember(ctx: CommandContext, argv: string[]): void {
  const reply = ctx.reply;
  if (argv.length >= 3) {
    const l = argCount(reply, argv[2]);
    if (l === null) return;
    let withScores = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== 'withscores')) {
      reply.error(ERR_SYNTAX);
      return;
    } else if (argv.length === 4) {
      withScores = true;
      const big = BigInt(argv[2]);
      if (big < -4611686018427387903n || big > 4611686018427387903n) {
        reply.error('ERR value is out of range');
        return;
      }
    }
    const z = getZ(ctx, argv[1]);
    if (z === false) return;
    if (z === undefined || l === 0) {
      reply.arrayHeader(0);
      return;
    }
    let picked: Entry[];
    const size = z.size;
    const at = (rank: number): Entry => {
      const n = z.nodeAt(rank) as ZCursor;
      return [n.member, n.score];
    };
    if (l < 0 || l === 1) {
      // Written as drawn, never collected: a huge negative count must not build a huge array first.
      const n = Math.abs(l);
      reply.arrayHeader(withScores && reply.resp === 2 ? n * 2 : n);
      for (let i = 0; i < n; i++) {
        const [m, sc] = at(randomIndex(size));
        if (withScores && reply.resp !== 2) reply.arrayHeader(2);
        reply.bulk(m);
        if (withScores) reply.double(sc);
      }
      return;
    } else if (l >= size) {
      // Redis walks the whole set from the tail here (zuiInitIterator starts at the last element).
      picked = z.rangeByRank(0, size - 1, true);
    } else if (l * 3 > size) {
      const all = z.rangeByRank(0, size - 1);
      for (let i = 0; i < l; i++) {
        const k = i + randomIndex(all.length - i);
        const t = all[i];
        all[i] = all[k];
        all[k] = t;
      }
      picked = all.slice(0, l);
    } else {
      // Few out of many: draw distinct ranks, O(count log n) instead of copying the set.
      const ranks = new Set<number>();
      while (ranks.size < l) ranks.add(randomIndex(size));
      picked = [...ranks].map(at);
    }
    replyWithScores(reply, picked, withScores);
    return;
  }
  const z = getZ(ctx, argv[1]);
  if (z === false) return;
  if (z === undefined) {
    reply.bulk(null);
    return;
  }
  reply.bulk((z.nodeAt(randomIndex(z.size)) as ZCursor).member);
}

/** How Redis prints a stored score as a string: integers plainly (listpack d2string), else %.17g. */
function scoreString(d: number, listpack: boolean): string {
  if (listpack && Number.isInteger(d) && Math.abs(d) < 9.2e18 && !Object.is(d, -0)) return BigInt(d).toString();
  return formatDouble17g(d);
}

function zscan(ctx: CommandContext, argv: string[]): void {
  const cursor = parseCursor(ctx.reply, argv[2]);
  if (cursor === null) return;
  const opts = parseScanOptions(ctx.reply, argv, 3);
  if (!opts) return;
  const z = getZ(ctx, argv[1]);
  if (z === false) return;
  let entries: Entry[] = [];
  let next = 0;
  if (z) {
    if (z.encoding === 'listpack' || z.size <= opts.count) entries = z.rangeByRank(0, z.size - 1);
    else {
      const step = hashScanStep((function* () {
        for (const [m] of z.entries()) yield m;
      })(), z.size, cursor, opts.count);
      next = step.next;
      entries = step.picked.map((m) => [m, z.score(m) as number]);
    }
  }
  if (opts.pattern !== null) entries = entries.filter(([m]) => globMatch(opts.pattern as string, m));
  const lp = z ? z.encoding === 'listpack' : true;
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk(String(next));
  ctx.reply.arrayHeader(entries.length * 2);
  for (const [m, s] of entries) {
    ctx.reply.bulk(m);
    ctx.reply.bulk(scoreString(s, lp));
  }
}

// ---------------------------------------------------------------- table

const k1 = { firstKey: 1, lastKey: 1, step: 1 };
const W_FAST = ['write', 'sortedset', 'fast'];
const R_FAST = ['read', 'sortedset', 'fast'];
const W_SLOW = ['write', 'sortedset', 'slow'];
const R_SLOW = ['read', 'sortedset', 'slow'];

function readOnlyZ(ctx: CommandContext, key: string, onMissing: () => void, then: (z: SortedSet) => void): void {
  const z = getZ(ctx, key);
  if (z === false) return;
  if (z === undefined) onMissing();
  else then(z);
}

export const commands: CommandSpec[] = withReadStats([
  { name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => zaddGeneric(ctx, argv, false) },
  { name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => zaddGeneric(ctx, argv, true) },
  { name: 'zrem', arity: -3, flags: ['write', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => {
      const z = getZ(ctx, argv[1]);
      if (z === false) return;
      let deleted = 0;
      if (z) {
        for (let j = 2; j < argv.length; j++) {
          if (z.remove(argv[j])) deleted++;
          if (z.size === 0) break;
        }
        if (deleted) afterRemoval(ctx, NOTIFY_ZSET, 'zrem', argv[1], z.size === 0);
      }
      if (!deleted) ctx.noPropagate();
      ctx.reply.integer(deleted);
    } },
  { name: 'zscore', arity: 3, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => readOnlyZ(ctx, argv[1], () => ctx.reply.bulk(null), (z) => {
      const s = z.score(argv[2]);
      if (s === undefined) ctx.reply.bulk(null);
      else ctx.reply.double(s);
    }) },
  { name: 'zmscore', arity: -3, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => {
      const z = getZ(ctx, argv[1]);
      if (z === false) return;
      ctx.reply.arrayHeader(argv.length - 2);
      for (let j = 2; j < argv.length; j++) {
        const s = z ? z.score(argv[j]) : undefined;
        if (s === undefined) ctx.reply.bulk(null);
        else ctx.reply.double(s);
      }
    } },
  { name: 'zcard', arity: 2, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => readOnlyZ(ctx, argv[1], () => ctx.reply.integer(0), (z) => ctx.reply.integer(z.size)) },
  { name: 'zcount', arity: 4, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => {
      const r = parseScoreRange(argv[2], argv[3]);
      if (!r) {
        ctx.reply.error(ERR_MINMAX_FLOAT);
        return;
      }
      readOnlyZ(ctx, argv[1], () => ctx.reply.integer(0), (z) => ctx.reply.integer(z.countInScoreRange(r)));
    } },
  { name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => {
      const r = parseLexRange(argv[2], argv[3]);
      if (!r) {
        ctx.reply.error(ERR_MINMAX_LEX);
        return;
      }
      readOnlyZ(ctx, argv[1], () => ctx.reply.integer(0), (z) => ctx.reply.integer(z.countInLexRange(r)));
    } },
  { name: 'zrange', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'auto', 'auto') },
  { name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, step: 1, categories: W_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 2, argv[1], 'auto', 'auto') },
  { name: 'zrangebyscore', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'score', 'forward') },
  { name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'score', 'reverse') },
  { name: 'zrangebylex', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'lex', 'forward') },
  { name: 'zrevrangebylex', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'lex', 'reverse') },
  { name: 'zrevrange', arity: -4, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrangeGeneric(ctx, argv, 1, null, 'rank', 'reverse') },
  { name: 'zrank', arity: 3, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => readOnlyZ(ctx, argv[1], () => ctx.reply.bulk(null), (z) => {
      const r = z.rank(argv[2]);
      if (r === undefined) ctx.reply.bulk(null);
      else ctx.reply.integer(r);
    }) },
  { name: 'zrevrank', arity: 3, flags: ['readonly', 'fast'], ...k1, categories: R_FAST,
    execute: (ctx, argv) => readOnlyZ(ctx, argv[1], () => ctx.reply.bulk(null), (z) => {
      const r = z.rank(argv[2]);
      if (r === undefined) ctx.reply.bulk(null);
      else ctx.reply.integer(z.size - 1 - r);
    }) },
  { name: 'zremrangebyrank', arity: 4, flags: ['write'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => zremrange(ctx, argv, 'rank') },
  { name: 'zremrangebyscore', arity: 4, flags: ['write'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => zremrange(ctx, argv, 'score') },
  { name: 'zremrangebylex', arity: 4, flags: ['write'], ...k1, categories: W_SLOW,
    execute: (ctx, argv) => zremrange(ctx, argv, 'lex') },
  { name: 'zpopmin', arity: -2, flags: ['write', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => zpopMinMax(ctx, argv, 'min') },
  { name: 'zpopmax', arity: -2, flags: ['write', 'fast'], ...k1, categories: W_FAST,
    execute: (ctx, argv) => zpopMinMax(ctx, argv, 'max') },
  { name: 'zmpop', arity: -4, flags: ['write', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: W_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => {
      const p = parseZmpop(ctx.reply, argv, 1);
      if (!p) return;
      const r = zpopForKeys(ctx, p.keys, p.where, p.count, true);
      if (r === 'none') {
        ctx.reply.nullArray();
        ctx.noPropagate();
      }
    } },
  { name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, step: 1,
    categories: ['write', 'sortedset', 'fast', 'blocking'],
    execute: (ctx, argv) => {
      const t = argTimeout(ctx.reply, argv[argv.length - 1]);
      if (t === null) return;
      return blockingZpop(ctx, argv.slice(1, -1), 'min', t, -1, false);
    } },
  { name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, step: 1,
    categories: ['write', 'sortedset', 'fast', 'blocking'],
    execute: (ctx, argv) => {
      const t = argTimeout(ctx.reply, argv[argv.length - 1]);
      if (t === null) return;
      return blockingZpop(ctx, argv.slice(1, -1), 'max', t, -1, false);
    } },
  { name: 'bzmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0,
    categories: ['write', 'sortedset', 'slow', 'blocking'],
    getKeys: (argv) => numkeysKeys(argv, 2),
    execute: (ctx, argv) => {
      const p = parseZmpop(ctx.reply, argv, 2);
      if (!p) return;
      const t = argTimeout(ctx.reply, argv[1]);
      if (t === null) return;
      return blockingZpop(ctx, p.keys, p.where, t, p.count, true);
    } },
  { name: 'zunion', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: R_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'union', false) },
  { name: 'zinter', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: R_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'inter', false) },
  { name: 'zdiff', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: R_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'diff', false) },
  { name: 'zunionstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], ...k1, categories: W_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 2, true),
    execute: (ctx, argv) => zsetOp(ctx, argv, argv[1], 2, 'union', false) },
  { name: 'zinterstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], ...k1, categories: W_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 2, true),
    execute: (ctx, argv) => zsetOp(ctx, argv, argv[1], 2, 'inter', false) },
  { name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], ...k1, categories: W_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 2, true),
    execute: (ctx, argv) => zsetOp(ctx, argv, argv[1], 2, 'diff', false) },
  { name: 'zintercard', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, categories: R_SLOW,
    getKeys: (argv) => numkeysKeys(argv, 1),
    execute: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'inter', true) },
  { name: 'zscan', arity: -3, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zscan(ctx, argv) },
  { name: 'zrandmember', arity: -2, flags: ['readonly'], ...k1, categories: R_SLOW,
    execute: (ctx, argv) => zrandmember(ctx, argv) },
]);

