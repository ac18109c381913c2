/**
 * HyperLogLog commands with Redis 7.0's representation (hyperloglog.c): PFADD PFCOUNT PFMERGE PFSELFTEST PFDEBUG.
 * The value is a plain string: a 16-byte header ("HYLL", encoding, 3 unused bytes, cached cardinality LE with
 * bit 63 meaning "stale"), then sparse opcodes or 16384 dense 6-bit registers, byte for byte as Redis stores it.
 */
import type { CommandContext, CommandSpec } from './command.js';
import { lookupRead, notify } from './access.js';
import { def, NOKEYS } from './define.js';
import { NOTIFY_STRING } from '../config/keyspace-events.js';
import { ERR_WRONGTYPE } from '../store/numbers.js';
import { KeyspaceDb } from '../store/db.js';

const HDR = 16;
const P = 14;
const Q = 64 - P;
const REGS = 1 << P;
const DENSE_BYTES = (REGS * 6 + 7) >> 3;
const DENSE_SIZE = HDR + DENSE_BYTES;
const ENC_DENSE = 0;
const ENC_SPARSE = 1;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;

const ERR_INVALID = 'INVALIDOBJ Corrupted HLL object detected';
const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

// ---- MurmurHash64A (seed 0xadc83b19, little-endian words), on 32-bit halves ----

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
/** Result registers of mulM/hash, to avoid allocating a pair per 64-bit operation. */
let rHi = 0;
let rLo = 0;

/** (hi:lo) * M mod 2^64 into rHi:rLo. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const b0 = M_LO & 0xffff;
  const b1 = M_LO >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const low = a0 * b0 + (mid % 65536) * 65536;
  rLo = low >>> 0;
  rHi = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(low / 4294967296) + Math.imul(lo, M_HI) + Math.imul(hi, M_LO)) >>> 0;
}

let hHi = 0;
let hLo = 0;

function mixWord(kHi: number, kLo: number): void {
  mulM(kHi, kLo);
  kHi = rHi;
  kLo = (rLo ^ (rHi >>> 15)) >>> 0;
  mulM(kHi, kLo);
  mulM((hHi ^ rHi) >>> 0, (hLo ^ rLo) >>> 0);
  hHi = rHi;
  hLo = rLo;
}

function hashInit(len: number): void {
  mulM(0, len >>> 0);
  hHi = rHi;
  hLo = (rLo ^ 0xadc83b19) >>> 0;
}

function hashFinish(): void {
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mulM(hHi, hLo);
  hHi = rHi;
  hLo = (rLo ^ (rHi >>> 15)) >>> 0;
}

/** Hashes a latin1 string (one byte per char) into hHi:hLo. */
function hashString(s: string): void {
  const len = s.length;
  hashInit(len);
  const whole = len - (len & 7);
  let i = 0;
  for (; i < whole; i += 8) {
    const lo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    const hi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    mixWord(hi, lo);
  }
  const rest = len & 7;
  if (rest > 0) {
    let lo = 0;
    let hi = 0;
    for (let j = 0; j < rest; j++) {
      const c = s.charCodeAt(i + j);
      if (j < 4) lo |= c << (8 * j);
      else hi |= c << (8 * (j - 4));
    }
    hHi = (hHi ^ hi) >>> 0;
    hLo = (hLo ^ lo) >>> 0;
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  hashFinish();
}

/** Hashes one 8-byte little-endian word (PFSELFTEST's elements). */
function hashWord(hi: number, lo: number): void {
  hashInit(8);
  mixWord(hi, lo);
  hashFinish();
}

let patIndex = 0;
/** hllPatLen on the hash in hHi:hLo: register index into patIndex, returns the 000..1 run length (1..Q+1). */
function patLen(): number {
  patIndex = hLo & (REGS - 1);
  const low = hLo >>> P;
  if (low !== 0) return 32 - Math.clz32(low & -low);
  if (hHi === 0) return Q + 1;
  return 32 - P + 32 - Math.clz32(hHi & -hHi);
}

// ---- the value as a growable byte buffer ----

class Hll {
  constructor(
    public b: Uint8Array,
    public len: number,
  ) {}

  static fromString(s: string): Hll {
    const b = Buffer.alloc(s.length + 8);
    b.write(s, 0, 'latin1');
    return new Hll(b, s.length);
  }

  /** A new empty HLL: sparse, one XZERO covering every register, cached cardinality 0. */
  static empty(): Hll {
    const h = new Hll(new Uint8Array(64), HDR + 2);
    h.b.set([72, 89, 76, 76, ENC_SPARSE]);
    h.b[HDR] = 0x40 | ((XZERO_MAX_LEN - 1) >> 8);
    h.b[HDR + 1] = (XZERO_MAX_LEN - 1) & 0xff;
    return h;
  }

  /** A byte, or 0 past the end (Redis reads the sds terminator there). */
  at(i: number): number {
    return i < this.len ? this.b[i] : 0;
  }

  ensure(extra: number): void {
    if (this.len + extra + 1 <= this.b.length) return;
    const nb = new Uint8Array((this.len + extra) * 2 + 8);
    nb.set(this.b.subarray(0, this.len));
    this.b = nb;
  }

  toString(): string {
    return Buffer.from(this.b.buffer, this.b.byteOffset, this.len).toString('latin1');
  }

  encoding(): number {
    return this.b[4];
  }

  invalidate(): void {
    this.b[15] |= 0x80;
  }
}

// ---- dense registers (6 bits each, LSB first; the last one's high neighbour is the terminator) ----

function denseGet(b: Uint8Array, r: number): number {
  const bit = r * 6;
  const byte = bit >> 3;
  const fb = bit & 7;
  const b0 = b[HDR + byte];
  const b1 = byte + 1 < DENSE_BYTES ? b[HDR + byte + 1] : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & 63;
}

function denseSetRaw(b: Uint8Array, r: number, v: number): void {
  const bit = r * 6;
  const byte = bit >> 3;
  const fb = bit & 7;
  const i = HDR + byte;
  b[i] = (b[i] & ~(63 << fb)) | ((v << fb) & 0xff);
  if (byte + 1 < DENSE_BYTES) b[i + 1] = (b[i + 1] & ~(63 >> (8 - fb))) | (v >> (8 - fb));
}

/** hllDenseSet: 1 if the register grew. */
function denseSet(b: Uint8Array, r: number, count: number): number {
  if (count > denseGet(b, r)) {
    denseSetRaw(b, r, count);
    return 1;
  }
  return 0;
}

// ---- sparse opcodes: ZERO 00llllll, XZERO 01llllll llllllll, VAL 1vvvvvll ----

const isZero = (op: number): boolean => (op & 0xc0) === 0;
const isXzero = (op: number): boolean => (op & 0xc0) === 0x40;
const isVal = (op: number): boolean => (op & 0x80) !== 0;
const valValue = (op: number): number => ((op >> 2) & 0x1f) + 1;
const valLen = (op: number): number => (op & 3) + 1;
const valOp = (v: number, len: number): number => (((v - 1) << 2) | (len - 1) | 0x80) & 0xff;

/**
 * Walks a sparse value's opcodes as runs of registers (ZERO and XZERO runs have the value 0). Returns how many
 * registers they cover, or -1 as soon as a VAL run would pass the last register (a corrupt value).
 */
function walkSparse(h: Hll, run: (idx: number, len: number, value: number) => void): number {
  let idx = 0;
  let p = HDR;
  while (p < h.len) {
    const op = h.b[p];
    let len: number;
    let value = 0;
    if (isZero(op)) {
      len = (op & 0x3f) + 1;
      p++;
    } else if (isXzero(op)) {
      len = (((op & 0x3f) << 8) | h.at(p + 1)) + 1;
      p += 2;
    } else {
      len = valLen(op);
      value = valValue(op);
      if (len + idx > REGS) return -1;
      p++;
    }
    run(idx, len, value);
    idx += len;
  }
  return idx;
}

/** hllSparseToDense in place; false when the opcodes do not cover exactly every register. */
function sparseToDense(h: Hll): boolean {
  if (h.encoding() === ENC_DENSE) return true;
  const d = new Uint8Array(DENSE_SIZE + 8);
  d.set(h.b.subarray(0, HDR));
  d[4] = ENC_DENSE;
  const covered = walkSparse(h, (idx, len, value) => {
    if (value !== 0) for (let i = 0; i < len; i++) denseSetRaw(d, idx + i, value);
  });
  if (covered !== REGS) return false;
  h.b = d;
  h.len = DENSE_SIZE;
  return true;
}

/** hllSparseSet: 1 if updated (maybe promoting to dense), 0 if not needed, -1 if the value is corrupted. */
function sparseSet(h: Hll, index: number, count: number, maxBytes: number): number {
  if (count > VAL_MAX_VALUE) return promote(h, index, count);
  h.ensure(8);
  let b = h.b;
  let end = h.len;
  let p = HDR;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = b[p];
    let oplen = 1;
    if (isZero(op)) span = (op & 0x3f) + 1;
    else if (isVal(op)) span = valLen(op);
    else {
      span = (((op & 0x3f) << 8) | h.at(p + 1)) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = b[p];
  let next = isXzero(op) ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const zero = isZero(op);
  const xzero = isXzero(op);
  const runlen = zero ? (op & 0x3f) + 1 : xzero ? (((op & 0x3f) << 8) | h.at(p + 1)) + 1 : valLen(op);
  let simple = false;
  if (!zero && !xzero) {
    if (valValue(op) >= count) return 0;
    if (runlen === 1) {
      b[p] = valOp(count, 1);
      simple = true;
    }
  }
  if (!simple && zero && runlen === 1) {
    b[p] = valOp(count, 1);
    simple = true;
  }
  if (!simple) {
    const seq: number[] = [];
    const last = first + span - 1;
    const zeros = (len: number): void => {
      if (len > ZERO_MAX_LEN) seq.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
      else seq.push(len - 1);
    };
    if (zero || xzero) {
      if (index !== first) zeros(index - first);
      seq.push(valOp(count, 1));
      if (index !== last) zeros(last - index);
    } else {
      const cur = valValue(op);
      if (index !== first) seq.push(valOp(cur, index - first));
      seq.push(valOp(count, 1));
      if (index !== last) seq.push(valOp(cur, last - index));
    }
    const delta = seq.length - (xzero ? 2 : 1);
    if (delta > 0 && h.len + delta > maxBytes) return promote(h, index, count);
    if (delta !== 0 && next !== -1) b.copyWithin(next + delta, next, end);
    h.len += delta;
    b.set(seq, p);
    end += delta;
  }
  // Merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the one before the change.
  b = h.b;
  p = prev >= 0 ? prev : HDR;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const o = b[p];
    if (isXzero(o)) {
      p += 2;
      continue;
    }
    if (isZero(o)) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(b[p + 1])) {
      const v1 = valValue(o);
      if (v1 === valValue(b[p + 1])) {
        const len = valLen(o) + valLen(b[p + 1]);
        if (len <= VAL_MAX_LEN) {
          b[p + 1] = valOp(v1, len);
          b.copyWithin(p, p + 1, end);
          h.len--;
          end--;
          continue;
        }
      }
    }
    p++;
  }
  h.invalidate();
  return 1;
}

function promote(h: Hll, index: number, count: number): number {
  if (!sparseToDense(h)) return -1;
  return denseSet(h.b, index, count);
}

/** hllAdd for the hash already in hHi:hLo. */
function addHashed(h: Hll, maxBytes: number): number {
  const count = patLen();
  if (h.encoding() === ENC_DENSE) return denseSet(h.b, patIndex, count);
  if (h.encoding() === ENC_SPARSE) return sparseSet(h, patIndex, count, maxBytes);
  return -1;
}

// ---- counting ----

/** Register histogram; returns false for a sparse value not covering exactly every register. */
function histogram(h: Hll, histo: Float64Array): boolean {
  if (h.encoding() === ENC_DENSE) {
    // 3 bytes hold 4 registers exactly, so read them as one 24-bit word.
    const b = h.b;
    for (let i = HDR; i < DENSE_SIZE; i += 3) {
      const w = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
      histo[w & 63]++;
      histo[(w >> 6) & 63]++;
      histo[(w >> 12) & 63]++;
      histo[(w >> 18) & 63]++;
    }
    return true;
  }
  return walkSparse(h, (_idx, len, value) => {
    histo[value] += len;
  }) === REGS;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (prev !== z);
  return z / 3;
}

const TWO63 = 1n << 63n;

/** Ertl's improved estimator as hllCount computes it; a result past int64 is what llroundl gives on x86 (2^63). */
function estimate(histo: Float64Array): bigint {
  const m = REGS;
  let z = m * tau((m - histo[Q + 1]) / m);
  for (let j = Q; j >= 1; j--) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  const e = Math.round((0.72134752044448170368 * m * m) / z);
  if (!(e < 2 ** 63)) return TWO63;
  return BigInt(e);
}

function countOf(h: Hll): bigint | null {
  const histo = new Float64Array(64);
  if (!histogram(h, histo)) return null;
  return estimate(histo);
}

/** hllMerge of a validated value into max[], read straight from the string: false for a corrupted sparse value. */
function mergeInto(max: Uint8Array, s: string): boolean {
  if (s.charCodeAt(4) === ENC_DENSE) {
    for (let i = HDR, r = 0; i < DENSE_SIZE; i += 3, r += 4) {
      const w = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16);
      let v = w & 63;
      if (v > max[r]) max[r] = v;
      v = (w >> 6) & 63;
      if (v > max[r + 1]) max[r + 1] = v;
      v = (w >> 12) & 63;
      if (v > max[r + 2]) max[r + 2] = v;
      v = (w >> 18) & 63;
      if (v > max[r + 3]) max[r + 3] = v;
    }
    return true;
  }
  let i = 0;
  let p = HDR;
  const end = s.length;
  while (p < end) {
    const op = s.charCodeAt(p);
    if (isZero(op)) {
      i += (op & 0x3f) + 1;
      p++;
    } else if (isXzero(op)) {
      i += (((op & 0x3f) << 8) | (p + 1 < end ? s.charCodeAt(p + 1) : 0)) + 1;
      p += 2;
    } else {
      let run = valLen(op);
      const v = valValue(op);
      if (run + i > REGS) break;
      while (run-- > 0) {
        if (v > max[i]) max[i] = v;
        i++;
      }
      p++;
    }
  }
  return i === REGS;
}

// ---- commands ----

/** isHLLObjectOrReply: the value, or undefined after replying the error. */
function hllString(ctx: CommandContext, v: unknown): string | undefined {
  if (typeof v !== 'string') {
    ctx.reply.error(ERR_WRONGTYPE);
    return undefined;
  }
  if (
    v.length < HDR ||
    v.charCodeAt(0) !== 72 || v.charCodeAt(1) !== 89 || v.charCodeAt(2) !== 76 || v.charCodeAt(3) !== 76 ||
    v.charCodeAt(4) > 1 ||
    (v.charCodeAt(4) === ENC_DENSE && v.length !== DENSE_SIZE)
  ) {
    ctx.reply.error(ERR_NOT_HLL);
    return undefined;
  }
  return v;
}

function asHll(ctx: CommandContext, v: unknown): Hll | undefined {
  const s = hllString(ctx, v);
  return s === undefined ? undefined : Hll.fromString(s);
}

/** dbUnshareStringValue: a value changed in place is raw-encoded in Redis, whatever its length. */
function markRaw(ctx: CommandContext, key: string): void {
  if (ctx.db instanceof KeyspaceDb) ctx.db.setStringEncoding(key, 'raw');
}

function store(ctx: CommandContext, key: string, h: Hll, existed: boolean): void {
  if (existed) ctx.db.set(key, h.toString(), true);
  else ctx.db.add(key, h.toString());
  markRaw(ctx, key);
}

function sparseMax(ctx: CommandContext): number {
  return ctx.server.config.getNumber('hll-sparse-max-bytes');
}

/** A dense register read straight from the stored string (no copy while nothing changes). */
function denseGetStr(s: string, r: number): number {
  const bit = r * 6;
  const byte = bit >> 3;
  const fb = bit & 7;
  const b0 = s.charCodeAt(HDR + byte);
  const b1 = byte + 1 < DENSE_BYTES ? s.charCodeAt(HDR + byte + 1) : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & 63;
}

function cmdPfadd(ctx: CommandContext, argv: string[]): void {
  const key = argv[1];
  const cur = ctx.db.get(key);
  let h: Hll | null = null;
  let s = '';
  let updated = 0;
  if (cur === undefined) {
    h = Hll.empty();
    updated++;
  } else {
    const valid = hllString(ctx, cur);
    if (valid === undefined) return;
    s = valid;
    markRaw(ctx, key);
  }
  const maxBytes = sparseMax(ctx);
  for (let j = 2; j < argv.length; j++) {
    hashString(argv[j]);
    if (h === null && s.charCodeAt(4) === ENC_DENSE) {
      const count = patLen();
      if (count <= denseGetStr(s, patIndex)) continue;
      h = Hll.fromString(s);
      denseSetRaw(h.b, patIndex, count);
      updated++;
      continue;
    }
    h ??= Hll.fromString(s);
    const r = addHashed(h, maxBytes);
    if (r === 1) updated++;
    else if (r === -1) {
      // Redis changed the value in place up to here, without signalling or propagating it.
      if (updated > 0) store(ctx, key, h, cur !== undefined);
      ctx.noPropagate();
      ctx.reply.error(ERR_INVALID);
      return;
    }
  }
  if (updated > 0 && h !== null) {
    h.invalidate();
    store(ctx, key, h, cur !== undefined);
    notify(ctx, NOTIFY_STRING, 'pfadd', key);
  }
  ctx.reply.integer(updated > 0 ? 1 : 0);
}

function replyCard(ctx: CommandContext, card: bigint): void {
  // Redis replies the uint64 as a long long.
  const signed = BigInt.asIntN(64, card);
  ctx.reply.integer(signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed);
}

function cmdPfcount(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 2) {
    const max = new Uint8Array(REGS);
    for (let j = 1; j < argv.length; j++) {
      const v = lookupRead(ctx, argv[j]);
      if (v === undefined) continue;
      const h = hllString(ctx, v);
      if (h === undefined) return;
      if (!mergeInto(max, h)) {
        ctx.reply.error(ERR_INVALID);
        return;
      }
    }
    const histo = new Float64Array(64);
    for (let r = 0; r < REGS; r++) histo[max[r]]++;
    replyCard(ctx, estimate(histo));
    return;
  }
  const key = argv[1];
  const v = lookupRead(ctx, key);
  if (v === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const s = hllString(ctx, v);
  if (s === undefined) return;
  markRaw(ctx, key);
  if ((s.charCodeAt(15) & 0x80) === 0) {
    let card = 0n;
    for (let i = 7; i >= 0; i--) card = (card << 8n) | BigInt(s.charCodeAt(8 + i));
    replyCard(ctx, card);
    return;
  }
  const h = Hll.fromString(s);
  const b = h.b;
  const card = countOf(h);
  if (card === null) {
    ctx.reply.error(ERR_INVALID);
    return;
  }
  for (let i = 0; i < 8; i++) b[8 + i] = Number((card >> BigInt(8 * i)) & 0xffn);
  ctx.db.set(key, h.toString(), true);
  markRaw(ctx, key);
  // Redis counts the cache update as dirty, so even this read-only command is propagated.
  ctx.propagateAs([argv]);
  replyCard(ctx, card);
}

function cmdPfmerge(ctx: CommandContext, argv: string[]): void {
  const max = new Uint8Array(REGS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const v = lookupRead(ctx, argv[j]);
    if (v === undefined) continue;
    const h = hllString(ctx, v);
    if (h === undefined) return;
    if (h.charCodeAt(4) === ENC_DENSE) useDense = true;
    if (!mergeInto(max, h)) {
      ctx.reply.error(ERR_INVALID);
      return;
    }
  }
  const key = argv[1];
  const cur = ctx.db.get(key);
  // An existing destination was already checked as a source.
  const h = typeof cur === 'string' ? Hll.fromString(cur) : Hll.empty();
  if (cur !== undefined) markRaw(ctx, key);
  if (useDense && !sparseToDense(h)) {
    ctx.reply.error(ERR_INVALID);
    return;
  }
  const maxBytes = sparseMax(ctx);
  for (let r = 0; r < REGS; r++) {
    if (max[r] === 0) continue;
    if (h.encoding() === ENC_DENSE) denseSet(h.b, r, max[r]);
    else if (h.encoding() === ENC_SPARSE) sparseSet(h, r, max[r], maxBytes);
  }
  h.invalidate();
  store(ctx, key, h, cur !== undefined);
  // Redis reports PFMERGE as a pfadd (a mass add of elements).
  notify(ctx, NOTIFY_STRING, 'pfadd', key);
  ctx.reply.ok();
}

function cmdPfselftest(ctx: CommandContext): void {
  const dense = new Uint8Array(DENSE_SIZE + 8);
  const bytes = new Uint8Array(REGS);
  for (let cycle = 0; cycle < 1000; cycle++) {
    for (let r = 0; r < REGS; r++) {
      const v = (Math.random() * 64) | 0;
      bytes[r] = v;
      denseSetRaw(dense, r, v);
    }
    for (let r = 0; r < REGS; r++) {
      const v = denseGet(dense, r);
      if (v !== bytes[r]) {
        ctx.reply.error(`ERR TESTFAILED Register ${r} should be ${bytes[r]} but is ${v}`);
        return;
      }
    }
  }
  dense.fill(0);
  dense.set([72, 89, 76, 76, ENC_DENSE]);
  const denseH = new Hll(dense, DENSE_SIZE);
  const sparse = Hll.empty();
  const maxBytes = sparseMax(ctx);
  const relerr = 1.04 / Math.sqrt(REGS);
  let checkpoint = 1;
  const seedLo = (Math.random() * 2 ** 32) >>> 0;
  const seedHi = (Math.random() * 2 ** 32) >>> 0;
  for (let j = 1; j <= 10000000; j++) {
    hashWord(seedHi, (j ^ seedLo) >>> 0);
    const count = patLen();
    denseSet(dense, patIndex, count);
    if (sparse.encoding() === ENC_DENSE) denseSet(sparse.b, patIndex, count);
    else sparseSet(sparse, patIndex, count, maxBytes);
    if (j !== checkpoint) continue;
    if (j < maxBytes / 2 && sparse.encoding() !== ENC_SPARSE) {
      ctx.reply.error('ERR TESTFAILED sparse encoding not used');
      return;
    }
    const card = countOf(denseH) ?? 0n;
    if (card !== countOf(sparse)) {
      ctx.reply.error('ERR TESTFAILED dense/sparse disagree');
      return;
    }
    const abserr = Math.abs(checkpoint - Number(card));
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    if (abserr > maxerr) {
      ctx.reply.error(`ERR TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
      return;
    }
    checkpoint *= 10;
  }
  ctx.reply.ok();
}

function cmdPfdebug(ctx: CommandContext, argv: string[]): void {
  const sub = argv[1];
  const key = argv[2];
  const cur = ctx.db.get(key);
  if (cur === undefined) {
    ctx.reply.error('ERR The specified key does not exist');
    return;
  }
  const h = asHll(ctx, cur);
  if (h === undefined) return;
  markRaw(ctx, key);
  switch (sub.toLowerCase()) {
    case 'getreg': {
      if (h.encoding() === ENC_SPARSE) {
        if (!sparseToDense(h)) {
          ctx.reply.error(ERR_INVALID);
          return;
        }
        store(ctx, key, h, true);
      }
      ctx.reply.arrayHeader(REGS);
      for (let r = 0; r < REGS; r++) ctx.reply.integer(denseGet(h.b, r));
      return;
    }
    case 'decode': {
      if (h.encoding() !== ENC_SPARSE) {
        ctx.reply.error('ERR HLL encoding is not sparse');
        return;
      }
      const parts: string[] = [];
      let p = HDR;
      while (p < h.len) {
        const op = h.b[p];
        if (isZero(op)) {
          parts.push(`z:${(op & 0x3f) + 1}`);
          p++;
        } else if (isXzero(op)) {
          parts.push(`Z:${(((op & 0x3f) << 8) | h.at(p + 1)) + 1}`);
          p += 2;
        } else {
          parts.push(`v:${valValue(op)},${valLen(op)}`);
          p++;
        }
      }
      ctx.reply.bulk(parts.join(' '));
      return;
    }
    case 'encoding':
      ctx.reply.simple(h.encoding() === ENC_DENSE ? 'dense' : 'sparse');
      return;
    case 'todense': {
      let conv = 0;
      if (h.encoding() === ENC_SPARSE) {
        if (!sparseToDense(h)) {
          ctx.reply.error(ERR_INVALID);
          return;
        }
        conv = 1;
        store(ctx, key, h, true);
      }
      ctx.reply.integer(conv);
      return;
    }
    default:
      ctx.reply.error(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

export const commands: CommandSpec[] = [
  def('pfadd', -2, 'write denyoom fast', [1, 1, 1], 'write hyperloglog fast', cmdPfadd),
  def('pfcount', -2, 'readonly may_replicate', [1, -1, 1], 'read hyperloglog slow', cmdPfcount),
  def('pfmerge', -2, 'write denyoom', [1, -1, 1], 'write hyperloglog slow', cmdPfmerge),
  def('pfselftest', 1, 'admin', NOKEYS, 'hyperloglog admin slow dangerous', (ctx) => cmdPfselftest(ctx)),
  def('pfdebug', 3, 'write denyoom admin', [2, 2, 1], 'write hyperloglog admin slow dangerous', cmdPfdebug),
];
