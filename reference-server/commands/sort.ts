/**
 * SORT and SORT_RO with Redis 7.0's semantics (sort.c): BY patterns (with hash field dereference "->"), LIMIT,
 * GET patterns and "#", ASC/DESC, ALPHA, STORE; numeric weights parsed as strtod parses them, ties broken by the
 * element's bytes, the order checks and errors as Redis gives them.
 */
import type { CommandContext, CommandSpec, Value } from './command.js';
import { def } from './define.js';
import { lookupRead, notify } from './access.js';
import { NOTIFY_GENERIC, NOTIFY_LIST } from '../config/keyspace-events.js';
import { setEncoding } from '../store/encoding.js';
import { createList } from '../store/list.js';
import { ERR_NOT_INTEGER, parseInt64 } from '../store/numbers.js';

/** strtod's accepted syntax (leading white space, decimal or hex floats, inf/infinity); the whole string must parse. */
const STRTOD = /^[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?)|(nan)|0[xX]([0-9a-fA-F]*\.?[0-9a-fA-F]*)(?:[pP]([+-]?\d+))?|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))$/i;

/** The weight strtod gives, or null when Redis reports "can't be converted" (junk, NaN, ERANGE). */
function weight(s: string): number | null {
  if (s === '') return 0;
  const m = STRTOD.exec(s);
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[2] !== undefined) return sign * Infinity;
  if (m[3] !== undefined) return null;
  if (m[6] !== undefined) {
    const v = Number(m[6]);
    // ERANGE: overflow to infinity, or underflow of a non-zero literal to zero.
    if (!Number.isFinite(v) || (v === 0 && /[1-9]/.test(m[6].split(/[eE]/)[0]!))) return null;
    return sign * v;
  }
  const hex = m[4] ?? '';
  const [ip = '', fp = ''] = hex.split('.');
  if (ip === '' && fp === '') return null;
  let v = ip === '' ? 0 : parseInt(ip, 16);
  for (let i = 0; i < fp.length; i++) v += parseInt(fp[i]!, 16) / 16 ** (i + 1);
  v *= 2 ** Number(m[5] ?? '0');
  return Number.isFinite(v) ? sign * v : null;
}

/** Binary comparison of latin1 strings (memcmp, then length), as compareStringObjects. */
function cmpBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** lookupKeyByPattern: "#" is the element; "*" is replaced by it; "key->field" reads a hash field. */
function byPattern(ctx: CommandContext, pattern: string, elem: string): string | null {
  if (pattern === '#') return elem;
  const star = pattern.indexOf('*');
  if (star < 0) return null;
  const arrow = pattern.indexOf('->', star + 1);
  const field = arrow >= 0 && arrow + 2 < pattern.length ? pattern.slice(arrow + 2) : null;
  const key = pattern.slice(0, star) + elem + pattern.slice(star + 1, field !== null ? arrow : pattern.length);
  const v: Value | undefined = lookupRead(ctx, key);
  if (v === undefined) return null;
  if (field !== null) return v instanceof Map ? (v.get(field) ?? null) : null;
  return typeof v === 'string' ? v : null;
}

interface Item {
  elem: string;
  score: number;
  cmp: string | null;
}

function sortGeneric(ctx: CommandContext, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];
  const cluster = ctx.server.config.getBool('cluster-enabled');
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j].toLowerCase();
    const left = argv.length - j - 1;
    if (a === 'asc') desc = false;
    else if (a === 'desc') desc = true;
    else if (a === 'alpha') alpha = true;
    else if (a === 'limit' && left >= 2) {
      const s = parseInt64(argv[j + 1]);
      const c = s === null ? null : parseInt64(argv[j + 2]);
      if (s === null || c === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      limitStart = s;
      limitCount = c;
      j += 2;
    } else if (!readonly && a === 'store' && left >= 1) {
      storekey = argv[++j];
    } else if (a === 'by' && left >= 1) {
      sortby = argv[j + 1];
      if (!sortby.includes('*')) dontsort = true;
      else if (cluster) {
        ctx.reply.error('ERR BY option of SORT denied in Cluster mode.');
        return;
      }
      j++;
    } else if (a === 'get' && left >= 1) {
      if (cluster) {
        ctx.reply.error('ERR GET option of SORT denied in Cluster mode.');
        return;
      }
      gets.push(argv[++j]);
    } else {
      ctx.reply.error('ERR syntax error');
      return;
    }
  }

  const v = lookupRead(ctx, argv[1]);
  if (v !== undefined && (typeof v === 'string' || v instanceof Map)) {
    ctx.reply.error('WRONGTYPE Operation against a key holding the wrong kind of value');
    return;
  }
  // A set's own order is not replicated: with STORE it is sorted alphabetically instead.
  if (dontsort && v instanceof Set && storekey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }

  const total = v === undefined ? 0 : v instanceof Set ? v.size : v.kind === 'list' ? v.length : v.size;
  let start = Math.min(Math.max(limitStart, 0), total);
  const count = Math.min(Math.max(limitCount, -1), total);
  let end = count < 0 ? total - 1 : start + count - 1;
  if (start >= total) {
    start = total - 1;
    end = total - 2;
  }
  if (end >= total) end = total - 1;

  let items: Item[];
  if (v === undefined) items = [];
  else if (dontsort && !(v instanceof Set)) {
    // Lists and sorted sets keep their own order (reversed by DESC); LIMIT picks the range directly.
    const ordered: string[] = v.kind === 'list' ? [...v] : [...v.entries()].map(([m]) => m);
    if (desc) ordered.reverse();
    items = end >= start ? ordered.slice(start, end + 1).map((elem) => ({ elem, score: 0, cmp: null })) : [];
    end -= start;
    start = 0;
  } else {
    let elems: string[];
    if (v instanceof Set) {
      elems = [...v];
      // An intset iterates in ascending order.
      if (setEncoding(v, ctx.server.encodingLimits) === 'intset') {
        elems.sort((x, y) => {
          const d = BigInt(x) - BigInt(y);
          return d > 0n ? 1 : d < 0n ? -1 : 0;
        });
      }
    } else if (v.kind === 'list') elems = [...v];
    else elems = [...v.entries()].map(([m]) => m);
    items = elems.map((elem) => ({ elem, score: 0, cmp: null }));
  }

  let conversionError = false;
  if (!dontsort) {
    for (const it of items) {
      let by: string | null;
      if (sortby !== null) {
        by = byPattern(ctx, sortby, it.elem);
        if (by === null) continue;
      } else by = it.elem;
      if (alpha) {
        if (sortby !== null) it.cmp = by;
      } else {
        const w = weight(by);
        if (w === null) conversionError = true;
        else it.score = w;
      }
    }
    const byPat = sortby !== null;
    items.sort((a, b) => {
      let c: number;
      if (!alpha) c = a.score > b.score ? 1 : a.score < b.score ? -1 : cmpBytes(a.elem, b.elem);
      else if (byPat) c = a.cmp === null || b.cmp === null ? (a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1) : cmpBytes(a.cmp, b.cmp);
      else c = cmpBytes(a.elem, b.elem);
      return desc ? -c : c;
    });
  }

  const rows = end - start + 1;
  const outputLen = gets.length > 0 ? gets.length * rows : rows;
  if (conversionError) {
    ctx.reply.error("ERR One or more scores can't be converted into double");
    return;
  }
  if (storekey === null) {
    ctx.reply.arrayHeader(outputLen);
    for (let j = start; j <= end; j++) {
      const elem = items[j]!.elem;
      if (gets.length === 0) ctx.reply.bulk(elem);
      for (const g of gets) ctx.reply.bulk(byPattern(ctx, g, elem));
    }
    ctx.noPropagate();
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const elem = items[j]!.elem;
    if (gets.length === 0) out.push(elem);
    for (const g of gets) out.push(byPattern(ctx, g, elem) ?? '');
  }
  if (outputLen > 0) {
    ctx.db.set(storekey, createList(out));
    notify(ctx, NOTIFY_LIST, 'sortstore', storekey);
  } else if (!ctx.db.delete(storekey)) ctx.noPropagate();
  else notify(ctx, NOTIFY_GENERIC, 'del', storekey);
  ctx.reply.integer(outputLen);
}


/** COMMAND GETKEYS: the sorted key, and the destination of the last STORE. */
function sortKeys(argv: string[]): string[] {
  const keys = [argv[1]!];
  let store: string | undefined;
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j]!.toLowerCase();
    if (a === 'limit') j += 2;
    else if (a === 'get' || a === 'by') j += 1;
    else if (a === 'store' && j + 1 < argv.length) store = argv[++j];
  }
  if (store !== undefined) keys.push(store);
  return keys;
}

export const commands: CommandSpec[] = [
  { ...def('sort', -2, 'write denyoom movablekeys', [1, 1, 1], 'write set sortedset list slow dangerous', (ctx, argv) => sortGeneric(ctx, argv, false)), getKeys: sortKeys },
  { ...def('sort_ro', -2, 'readonly movablekeys', [1, 1, 1], 'read set sortedset list slow dangerous', (ctx, argv) => sortGeneric(ctx, argv, true)), getKeys: (argv) => [argv[1]!] },
];
