/**
 * Bit commands with Redis 7.0's argument checks, replies, errors and propagation (bitops.c):
 * SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO. Bit 0 is the most significant bit of byte 0.
 */
import type { CommandContext, CommandSpec } from './command.js';
import { lookupRead, readString, writeString, notify } from './access.js';
import { def } from './define.js';
import { NOTIFY_GENERIC, NOTIFY_STRING } from '../config/keyspace-events.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE, LLONG_MAX, parseBig, parseLL } from '../store/numbers.js';
import { KeyspaceDb } from '../store/db.js';

const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';
const ERR_BF_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const ERR_TOO_BIG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

/** V8 cannot hold a one-byte string longer than this, so a bitmap past it is refused instead of crashing. */
const MAX_JS_STRING = (1 << 29) - 24;

/** Set bits per byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** A value built in place is raw-encoded in Redis (OBJECT ENCODING), whatever its length. */
function markRaw(ctx: CommandContext, key: string): void {
  if (ctx.db instanceof KeyspaceDb) ctx.db.setStringEncoding(key, 'raw');
}

/** getBitOffsetFromArgument: the bit offset, or undefined after replying the error. '#N' (BITFIELD) means N*bits. */
function parseBitOffset(ctx: CommandContext, arg: string, hashBits: number): number | undefined {
  const hash = hashBits > 0 && arg.charCodeAt(0) === 35;
  const v = parseLL(hash ? arg.slice(1) : arg);
  if (v === null) {
    ctx.reply.error(ERR_BIT_OFFSET);
    return undefined;
  }
  // Redis multiplies in 64-bit signed arithmetic, so a huge '#N' wraps (and then usually fails the range check).
  const off = hash ? BigInt.asIntN(64, BigInt(v) * BigInt(hashBits)) : BigInt(v);
  const limit = BigInt(ctx.server.config.getNumber('proto-max-bulk-len'));
  if (off < 0n || (ctx.client.kind !== 'master' && off >> 3n >= limit)) {
    ctx.reply.error(ERR_BIT_OFFSET);
    return undefined;
  }
  return Number(off);
}

// ---- SETBIT / GETBIT ----

function cmdSetbit(ctx: CommandContext, argv: string[]): void {
  const offset = parseBitOffset(ctx, argv[2], 0);
  if (offset === undefined) return;
  const on = parseLL(argv[3]);
  if (on === null || (on !== 0 && on !== 1)) {
    ctx.reply.error(ERR_BIT_VALUE);
    return;
  }
  const key = argv[1];
  const cur = writeString(ctx, key);
  if (cur === undefined) return;
  const byte = Math.floor(offset / 8);
  if (byte + 1 > MAX_JS_STRING) {
    ctx.reply.error(ERR_TOO_BIG);
    return;
  }
  const mask = 0x80 >> offset % 8;
  const old = cur !== null && byte < cur.length ? cur.charCodeAt(byte) : 0;
  const was = (old & mask) !== 0 ? 1 : 0;
  const grows = cur === null || byte >= cur.length;
  if (grows || was !== on) {
    const nb = on ? old | mask : old & ~mask;
    const base = cur ?? '';
    const next = grows
      ? base + '\0'.repeat(byte - base.length) + String.fromCharCode(nb)
      : base.slice(0, byte) + String.fromCharCode(nb) + base.slice(byte + 1);
    if (cur === null) ctx.db.add(key, next);
    else ctx.db.set(key, next, true);
    notify(ctx, NOTIFY_STRING, 'setbit', key);
  }
  // Redis unshares the value even when no bit changes, so it becomes raw either way.
  markRaw(ctx, key);
  ctx.reply.integer(was);
}

function cmdGetbit(ctx: CommandContext, argv: string[]): void {
  const offset = parseBitOffset(ctx, argv[2], 0);
  if (offset === undefined) return;
  const v = readString(ctx, argv[1]);
  if (v === undefined) return;
  const byte = Math.floor(offset / 8);
  if (v === null || byte >= v.length) {
    ctx.reply.integer(0);
    return;
  }
  ctx.reply.integer(v.charCodeAt(byte) & (0x80 >> offset % 8) ? 1 : 0);
}

// ---- BITCOUNT / BITPOS ----

/** A parsed [start, end] range in bits or bytes, clamped the way bitcount/bitpos do. */
interface Range {
  start: number;
  end: number;
}

/** Converts negative indexes and clamps to [0, total-1]; start > end means an empty range. */
function clampRange(start: bigint, end: bigint, total: number): Range {
  const t = BigInt(total);
  if (start < 0n) start += t;
  if (end < 0n) end += t;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= t) end = t - 1n;
  // start may still exceed total; then the range is empty either way.
  if (start > end) return { start: 1, end: 0 };
  return { start: Number(start), end: Number(end) };
}

/** BIT | BYTE option: true for BIT, false for BYTE, undefined for anything else. */
function parseUnit(arg: string): boolean | undefined {
  const u = arg.toLowerCase();
  if (u === 'bit') return true;
  if (u === 'byte') return false;
  return undefined;
}

/** Below this many bytes a table lookup per char beats copying into a word array. */
const SWAR_MIN = 64;

function popcountBytes(s: string, from: number, to: number): number {
  const len = to - from + 1;
  let n = 0;
  if (len < SWAR_MIN) {
    for (let i = from; i <= to; i++) n += POPCOUNT[s.charCodeAt(i)];
    return n;
  }
  // An unpooled buffer starts at offset 0 of its own ArrayBuffer, so it can be read as 32-bit words.
  const buf = Buffer.allocUnsafeSlow(len);
  buf.write(s.slice(from, to + 1), 0, len, 'latin1');
  const words = len >>> 2;
  const w = new Uint32Array(buf.buffer, 0, words);
  for (let i = 0; i < words; i++) {
    let v = w[i];
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
  }
  for (let i = words * 4; i < len; i++) n += POPCOUNT[buf[i]];
  return n;
}

/** Set bits in the bit range [from, to] (inclusive, within the string). */
function popcountBits(s: string, from: number, to: number): number {
  const fb = Math.floor(from / 8);
  const lb = Math.floor(to / 8);
  const headMask = 0xff >> from % 8;
  const tailMask = (0xff << (7 - (to % 8))) & 0xff;
  if (fb === lb) return POPCOUNT[s.charCodeAt(fb) & headMask & tailMask];
  return (
    POPCOUNT[s.charCodeAt(fb) & headMask] + popcountBytes(s, fb + 1, lb - 1) + POPCOUNT[s.charCodeAt(lb) & tailMask]
  );
}

function cmdBitcount(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]);
  if (v === undefined) return;
  if (v === null) {
    ctx.reply.integer(0);
    return;
  }
  if (argv.length === 2) {
    ctx.reply.integer(v.length === 0 ? 0 : popcountBytes(v, 0, v.length - 1));
    return;
  }
  if (argv.length !== 4 && argv.length !== 5) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  const start = parseBig(argv[2]);
  const end = start === null ? null : parseBig(argv[3]);
  if (start === null || end === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  // Both negative and reversed is empty before the unit is even looked at.
  if (start < 0n && end < 0n && start > end) {
    ctx.reply.integer(0);
    return;
  }
  let isBit = false;
  if (argv.length === 5) {
    const u = parseUnit(argv[4]);
    if (u === undefined) {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
    isBit = u;
  }
  const r = clampRange(start, end, isBit ? v.length * 8 : v.length);
  if (r.start > r.end) ctx.reply.integer(0);
  else ctx.reply.integer(isBit ? popcountBits(v, r.start, r.end) : popcountBytes(v, r.start, r.end));
}

/** The first byte holding a one / a zero; a regex scans a one-byte string several times faster than charCodeAt. */
const NOT_ZERO_BYTE = /[^\x00]/g;
const NOT_FF_BYTE = /[^\xff]/g;

/** First bit equal to `bit` in the bit range [from, to] (inclusive), or -1. */
function findBit(s: string, bit: 0 | 1, from: number, to: number): number {
  let pos = from;
  for (; pos <= to && (pos & 7) !== 0; pos++) if (((s.charCodeAt(pos >> 3) >> (7 - (pos & 7))) & 1) === bit) return pos;
  const first = pos >> 3;
  const endFull = (to + 1) >> 3;
  if (pos <= to && first < endFull) {
    const re = bit ? NOT_ZERO_BYTE : NOT_FF_BYTE;
    re.lastIndex = first;
    const m = re.exec(s);
    const at = m === null ? s.length : m.index;
    if (at < endFull) {
      const byte = s.charCodeAt(at);
      for (let k = 0; k < 8; k++) if (((byte >> (7 - k)) & 1) === bit) return at * 8 + k;
    }
    pos = endFull * 8;
  }
  for (; pos <= to; pos++) if (((s.charCodeAt(pos >> 3) >> (7 - (pos & 7))) & 1) === bit) return pos;
  return -1;
}

function cmdBitpos(ctx: CommandContext, argv: string[]): void {
  const b = parseLL(argv[2]);
  if (b === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (b !== 0 && b !== 1) {
    ctx.reply.error('ERR The bit argument must be 1 or 0.');
    return;
  }
  const bit: 0 | 1 = b;
  const v = lookupRead(ctx, argv[1]);
  // A missing key is an endless run of zeros.
  if (v === undefined) {
    ctx.reply.integer(bit ? -1 : 0);
    return;
  }
  if (typeof v !== 'string') {
    ctx.reply.error(ERR_WRONGTYPE);
    return;
  }
  if (argv.length > 6) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  let isBit = false;
  let endGiven = false;
  let r: Range;
  if (argv.length === 3) {
    r = { start: 0, end: v.length - 1 };
  } else {
    const start = parseBig(argv[3]);
    if (start === null) {
      ctx.reply.error(ERR_NOT_INTEGER);
      return;
    }
    // The unit is checked before the end index is parsed.
    if (argv.length === 6) {
      const u = parseUnit(argv[5]);
      if (u === undefined) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      isBit = u;
    }
    let end = BigInt(v.length - 1);
    if (argv.length >= 5) {
      const e = parseBig(argv[4]);
      if (e === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      end = e;
      endGiven = true;
    }
    r = clampRange(start, end, isBit ? v.length * 8 : v.length);
  }
  if (r.start > r.end) {
    ctx.reply.integer(-1);
    return;
  }
  const from = isBit ? r.start : r.start * 8;
  const to = isBit ? r.end : r.end * 8 + 7;
  const pos = findBit(v, bit, from, to);
  // Without an explicit end the string counts as zero-padded on the right, so a zero is found just past it.
  if (pos === -1 && bit === 0 && !endGiven) ctx.reply.integer(to + 1);
  else ctx.reply.integer(pos);
}

// ---- BITOP ----

function cmdBitop(ctx: CommandContext, argv: string[]): void {
  const op = argv[1].toLowerCase();
  if (op !== 'and' && op !== 'or' && op !== 'xor' && op !== 'not') {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  if (op === 'not' && argv.length !== 4) {
    ctx.reply.error('ERR BITOP NOT must be called with a single source key.');
    return;
  }
  const srcs: Buffer[] = [];
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const v = lookupRead(ctx, argv[j]);
    if (v === undefined) {
      srcs.push(Buffer.alloc(0));
      continue;
    }
    if (typeof v !== 'string') {
      ctx.reply.error(ERR_WRONGTYPE);
      return;
    }
    const b = Buffer.from(v, 'latin1');
    srcs.push(b);
    if (b.length > maxlen) maxlen = b.length;
  }
  const dest = argv[2];
  if (maxlen === 0) {
    if (ctx.db.delete(dest)) notify(ctx, NOTIFY_GENERIC, 'del', dest);
    ctx.reply.integer(0);
    return;
  }
  const res = Buffer.alloc(maxlen);
  const first = srcs[0];
  first.copy(res);
  if (op === 'not') {
    for (let i = 0; i < maxlen; i++) res[i] = ~res[i] & 0xff;
  } else {
    for (let k = 1; k < srcs.length; k++) {
      const s = srcs[k];
      const n = s.length;
      // Past a source's end it reads as zeros: AND clears the rest, OR and XOR leave it.
      if (op === 'and') {
        for (let i = 0; i < n; i++) res[i] &= s[i];
        res.fill(0, n);
      } else if (op === 'or') {
        for (let i = 0; i < n; i++) res[i] |= s[i];
      } else {
        for (let i = 0; i < n; i++) res[i] ^= s[i];
      }
    }
  }
  ctx.db.set(dest, res.toString('latin1'));
  markRaw(ctx, dest);
  notify(ctx, NOTIFY_STRING, 'set', dest);
  ctx.reply.integer(maxlen);
}

// ---- BITFIELD ----

const WRAP = 0;
const SAT = 1;
const FAIL = 2;

interface FieldOp {
  kind: 'get' | 'set' | 'incrby';
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: number;
}

/** getBitfieldTypeFromArgument: i1..i64 or u1..u63, or undefined after replying. */
function parseFieldType(ctx: CommandContext, arg: string): { signed: boolean; bits: number } | undefined {
  const c = arg.charCodeAt(0);
  // Redis reads the width as a C string, so it stops at a NUL byte.
  const nul = arg.indexOf('\0');
  const width = parseLL(arg.slice(1, nul < 0 ? arg.length : nul));
  const signed = c === 105;
  if ((c !== 105 && c !== 117) || width === null || width < 1 || width > (signed ? 64 : 63)) {
    ctx.reply.error(ERR_BF_TYPE);
    return undefined;
  }
  return { signed, bits: Number(width) };
}

function readField(buf: Uint8Array, offset: number, bits: number, signed: boolean): bigint {
  let v = 0n;
  for (let j = 0; j < bits; j++) {
    const pos = offset + j;
    const byte = Math.floor(pos / 8);
    const b = byte < buf.length ? (buf[byte] >> (7 - (pos % 8))) & 1 : 0;
    v = (v << 1n) | BigInt(b);
  }
  return signed ? BigInt.asIntN(bits, v) : v;
}

function writeField(buf: Uint8Array, offset: number, bits: number, value: bigint): void {
  const u = BigInt.asUintN(bits, value);
  for (let j = 0; j < bits; j++) {
    const pos = offset + j;
    const byte = Math.floor(pos / 8);
    const mask = 0x80 >> pos % 8;
    if ((u >> BigInt(bits - 1 - j)) & 1n) buf[byte] |= mask;
    else buf[byte] &= ~mask;
  }
}

/**
 * Overflow of value+incr in a field of `bits` (Redis's 64-bit checks, including their wrapping limits):
 * 0 when it fits, else the value to store (undefined for FAIL).
 */
function fieldOverflow(
  value: bigint,
  incr: bigint,
  bits: number,
  signed: boolean,
  overflow: number,
): { over: boolean; result: bigint | undefined } {
  if (!signed) {
    const max = (1n << BigInt(bits)) - 1n;
    // value is an unsigned 64-bit quantity here (a SET value was cast from int64).
    const uv = BigInt.asUintN(64, value);
    let dir = 0;
    if (uv > max || (incr > 0n && incr > BigInt.asIntN(64, max - uv))) dir = 1;
    else if (incr < 0n && incr < BigInt.asIntN(64, -uv)) dir = -1;
    if (dir === 0) return { over: false, result: undefined };
    if (overflow === WRAP) return { over: true, result: BigInt.asUintN(bits, uv + incr) };
    if (overflow === SAT) return { over: true, result: dir > 0 ? max : 0n };
    return { over: true, result: undefined };
  }
  const max = bits === 64 ? LLONG_MAX : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  let dir = 0;
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) dir = 1;
  else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) dir = -1;
  if (dir === 0) return { over: false, result: undefined };
  if (overflow === WRAP) return { over: true, result: BigInt.asIntN(bits, value + incr) };
  if (overflow === SAT) return { over: true, result: dir > 0 ? max : min };
  return { over: true, result: undefined };
}

function bitfield(ctx: CommandContext, argv: string[], readonlyCmd: boolean): void {
  const ops: FieldOp[] = [];
  let overflow = WRAP;
  let writes = false;
  let highest = -1;
  for (let j = 2; j < argv.length; j++) {
    const rem = argv.length - j - 1;
    const sub = argv[j].toLowerCase();
    let kind: FieldOp['kind'];
    if (sub === 'get' && rem >= 2) kind = 'get';
    else if (sub === 'set' && rem >= 3) kind = 'set';
    else if (sub === 'incrby' && rem >= 3) kind = 'incrby';
    else if (sub === 'overflow' && rem >= 1) {
      const t = argv[++j].toLowerCase();
      if (t === 'wrap') overflow = WRAP;
      else if (t === 'sat') overflow = SAT;
      else if (t === 'fail') overflow = FAIL;
      else {
        ctx.reply.error('ERR Invalid OVERFLOW type specified');
        return;
      }
      continue;
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
    const type = parseFieldType(ctx, argv[j + 1]);
    if (type === undefined) return;
    const offset = parseBitOffset(ctx, argv[j + 2], type.bits);
    if (offset === undefined) return;
    let value = 0n;
    if (kind !== 'get') {
      writes = true;
      highest = Math.max(highest, offset + type.bits - 1);
      const v = parseBig(argv[j + 3]);
      if (v === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      value = v;
    }
    ops.push({ kind, signed: type.signed, bits: type.bits, offset, value, overflow });
    j += kind === 'get' ? 2 : 3;
  }

  const key = argv[1];
  let cur: string;
  let need = 0;
  let grown = false;
  let existed = true;
  if (!writes) {
    const v = lookupRead(ctx, key);
    if (v !== undefined && typeof v !== 'string') {
      ctx.reply.error(ERR_WRONGTYPE);
      return;
    }
    cur = v ?? '';
  } else {
    if (readonlyCmd) {
      ctx.reply.error('ERR BITFIELD_RO only supports the GET subcommand');
      return;
    }
    const v = writeString(ctx, key);
    if (v === undefined) return;
    need = Math.floor(highest / 8) + 1;
    if (need > MAX_JS_STRING) {
      ctx.reply.error(ERR_TOO_BIG);
      return;
    }
    existed = v !== null;
    cur = v ?? '';
    grown = cur.length < need || !existed;
  }

  // Only the bytes the fields touch are copied out and back, so a big bitmap is not copied whole.
  let lo = Infinity;
  let hi = -1;
  for (const op of ops) {
    lo = Math.min(lo, Math.floor(op.offset / 8));
    hi = Math.max(hi, Math.floor((op.offset + op.bits - 1) / 8));
  }
  const buf = Buffer.alloc(hi >= lo ? hi - lo + 1 : 0);
  if (lo < cur.length) buf.write(cur.slice(lo, Math.min(hi + 1, cur.length)), 0, 'latin1');
  const base = lo * 8;

  ctx.reply.arrayHeader(ops.length);
  let changes = 0;
  for (const op of ops) {
    const at = op.offset - base;
    if (op.kind === 'get') {
      ctx.reply.integer(readField(buf, at, op.bits, op.signed));
      continue;
    }
    const old = readField(buf, at, op.bits, op.signed);
    let next: bigint;
    let ret: bigint;
    let over: boolean;
    if (op.kind === 'incrby') {
      const o = fieldOverflow(old, op.value, op.bits, op.signed, op.overflow);
      over = o.over;
      next = o.result ?? old + op.value;
      ret = next;
    } else {
      const o = fieldOverflow(op.value, 0n, op.bits, op.signed, op.overflow);
      over = o.over;
      next = o.result ?? op.value;
      ret = old;
    }
    if (over && op.overflow === FAIL) {
      ctx.reply.bulk(null);
      continue;
    }
    ctx.reply.integer(ret);
    writeField(buf, at, op.bits, next);
    if (grown || BigInt.asUintN(op.bits, old) !== BigInt.asUintN(op.bits, next)) changes++;
  }
  if (!writes) return;
  // The key is created or padded even when every write failed, but only a change is propagated.
  if (changes > 0 || grown) {
    const newLen = Math.max(cur.length, need);
    // A GET may reach past the last written byte; that part of the window is not stored.
    const keep = Math.max(0, Math.min(buf.length, newLen - lo));
    const head = lo <= cur.length ? cur.slice(0, lo) : cur + '\0'.repeat(Math.min(lo, newLen) - cur.length);
    const next = head + buf.toString('latin1', 0, keep) + (hi + 1 < cur.length ? cur.slice(hi + 1) : '');
    if (!existed) ctx.db.add(key, next);
    else ctx.db.set(key, next, true);
  }
  markRaw(ctx, key);
  if (changes > 0) notify(ctx, NOTIFY_STRING, 'setbit', key);
  if (changes === 0) ctx.noPropagate();
  else if (changes > 1) ctx.server.stats.dirty = (ctx.server.stats.dirty ?? 0) + changes - 1;
}

export const commands: CommandSpec[] = [
  def('setbit', 4, 'write denyoom', [1, 1, 1], 'write bitmap slow', cmdSetbit),
  def('getbit', 3, 'readonly fast', [1, 1, 1], 'read bitmap fast', cmdGetbit),
  def('bitcount', -2, 'readonly', [1, 1, 1], 'read bitmap slow', cmdBitcount),
  def('bitpos', -3, 'readonly', [1, 1, 1], 'read bitmap slow', cmdBitpos),
  def('bitop', -4, 'write denyoom', [2, -1, 1], 'write bitmap slow', cmdBitop),
  def('bitfield', -2, 'write denyoom', [1, 1, 1], 'write bitmap slow', (ctx, argv) => bitfield(ctx, argv, false)),
  def('bitfield_ro', -2, 'readonly fast', [1, 1, 1], 'read bitmap fast', (ctx, argv) => bitfield(ctx, argv, true)),
];
