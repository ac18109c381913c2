/** RDB version 10 (Redis 7.0): value encodings, whole-file writer and loader. */
import type { Value } from '../store/types.js';
import { createList } from '../store/list.js';
import { createZSet } from '../store/zset.js';
import { formatDouble17g } from '../resp/writer.js';
import { crc64, crc64Bytes, crc64Update, type Crc64State } from './crc64.js';
import { lzfCompressInto, lzfDecompress } from './lzf.js';
import {
  ListpackBuilder, canonicalInt, decodeIntset, decodeListpack, decodeZiplist, decodeZipmap, encodeIntset,
} from './compact.js';

export const RDB_VERSION = 10;

export const T = {
  STRING: 0, LIST: 1, SET: 2, ZSET: 3, HASH: 4, ZSET_2: 5, MODULE_PRE_GA: 6, MODULE_2: 7,
  HASH_ZIPMAP: 9, LIST_ZIPLIST: 10, SET_INTSET: 11, ZSET_ZIPLIST: 12, HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14, STREAM_LISTPACKS: 15, HASH_LISTPACK: 16, ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18, STREAM_LISTPACKS_2: 19,
} as const;

export const OP = {
  FUNCTION2: 0xf5, FUNCTION_PRE_GA: 0xf6, MODULE_AUX: 0xf7, IDLE: 0xf8, FREQ: 0xf9, AUX: 0xfa,
  RESIZEDB: 0xfb, EXPIRETIME_MS: 0xfc, EXPIRETIME: 0xfd, SELECTDB: 0xfe, EOF: 0xff,
} as const;

export { DEFAULT_LIMITS, type EncodingLimits } from '../store/limits.js';
import { DEFAULT_LIMITS, type EncodingLimits } from '../store/limits.js';

// Reused input and output buffers for LZF (a string's bytes, its compressed form), so compressing allocates nothing.
const scratchBufs: Buffer[] = [Buffer.allocUnsafe(4096), Buffer.allocUnsafe(4096)];
function scratch(which: 0 | 1, len: number): Buffer {
  if (scratchBufs[which]!.length < len + 4) scratchBufs[which] = Buffer.allocUnsafe(Math.max(len + 4, scratchBufs[which]!.length * 2));
  return scratchBufs[which]!;
}

/** Growable output buffer. */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(initial = 1 << 16) { this.buf = Buffer.allocUnsafe(initial); }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(b: number): void { this.ensure(1); this.buf[this.pos++] = b; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    // Short strings (most keys and values) are cheaper copied by hand than through Buffer.write.
    if (n < 48) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
    } else this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  u32le(n: number): void { this.ensure(4); this.buf.writeUInt32LE(n, this.pos); this.pos += 4; }
  u64le(n: number): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(n), this.pos); this.pos += 8; }
  doubleLE(d: number): void { this.ensure(8); this.buf.writeDoubleLE(d, this.pos); this.pos += 8; }
  length(n: number): void {
    this.ensure(9);
    if (n < 64) this.buf[this.pos++] = n;
    else if (n < 16384) { this.buf[this.pos++] = 0x40 | (n >> 8); this.buf[this.pos++] = n & 0xff; }
    else if (n <= 0xffffffff) { this.buf[this.pos++] = 0x80; this.buf.writeUInt32BE(n, this.pos); this.pos += 4; }
    else { this.buf[this.pos++] = 0x81; this.buf.writeBigUInt64BE(BigInt(n), this.pos); this.pos += 8; }
  }
  /** rdbSaveRawString: int encoding for short canonical int32s, LZF above 20 bytes when it saves 4+ bytes. */
  string(s: string, compression: boolean): void {
    const len = s.length;
    if (len <= 11 && len > 0) {
      const v = canonicalInt(s);
      if (v !== undefined && v >= -2147483648n && v <= 2147483647n) { this.intEncoded(Number(v)); return; }
    }
    if (compression && len > 20) {
      const raw = scratch(0, len);
      raw.write(s, 0, len, 'latin1');
      if (this.compressed(raw, len)) return;
    }
    this.length(len);
    this.latin1(s);
  }
  rawString(b: Buffer, compression: boolean): void {
    if (compression && b.length > 20 && this.compressed(b, b.length)) return;
    this.length(b.length);
    this.bytes(b);
  }
  /** rdbSaveLzfStringObject: written (and true) only when LZF saves at least 4 bytes. */
  private compressed(src: Uint8Array, len: number): boolean {
    const out = scratch(1, len);
    const n = lzfCompressInto(src, len, out, len - 4);
    if (n === 0) return false;
    this.byte(0xc3); this.length(n); this.length(len);
    this.bytes(out.subarray(0, n));
    return true;
  }
  intEncoded(v: number): void {
    this.ensure(5);
    if (v >= -128 && v <= 127) { this.buf[this.pos++] = 0xc0; this.buf.writeInt8(v, this.pos); this.pos += 1; }
    else if (v >= -32768 && v <= 32767) { this.buf[this.pos++] = 0xc1; this.buf.writeInt16LE(v, this.pos); this.pos += 2; }
    else { this.buf[this.pos++] = 0xc2; this.buf.writeInt32LE(v, this.pos); this.pos += 4; }
  }
  result(): Buffer { return this.buf.subarray(0, this.pos); }
}

function bad(): never { throw new Error('Bad data format'); }

export class ByteReader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end = buf.length) {}
  byte(): number { if (this.pos >= this.end) bad(); return this.buf[this.pos++]!; }
  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.end) bad();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Returns [value, isEncoded]. */
  lengthOrEncoding(): [number, boolean] {
    const c = this.byte();
    const kind = c >> 6;
    if (kind === 0) return [c & 0x3f, false];
    if (kind === 1) return [((c & 0x3f) << 8) | this.byte(), false];
    if (kind === 3) return [c & 0x3f, true];
    if (c === 0x80) return [this.take(4).readUInt32BE(0), false];
    if (c === 0x81) { const v = this.take(8).readBigUInt64BE(0); if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(); return [Number(v), false]; }
    bad();
  }
  length(): number { const [n, enc] = this.lengthOrEncoding(); if (enc) bad(); return n; }
  stringBuf(): Buffer {
    const [n, enc] = this.lengthOrEncoding();
    if (!enc) return this.take(n);
    if (n === 3) {
      const clen = this.length(), len = this.length();
      return lzfDecompress(this.take(clen), len);
    }
    return Buffer.from(this.intString(n), 'latin1');
  }
  private intString(kind: number): string {
    if (kind === 0) return String(this.take(1).readInt8(0));
    if (kind === 1) return String(this.take(2).readInt16LE(0));
    if (kind === 2) return String(this.take(4).readInt32LE(0));
    bad();
  }
  string(): string {
    const [n, enc] = this.lengthOrEncoding();
    if (!enc) { const s = this.buf.toString('latin1', this.pos, this.pos + n); if (this.pos + n > this.end) bad(); this.pos += n; return s; }
    if (n === 3) {
      const clen = this.length(), len = this.length();
      return lzfDecompress(this.take(clen), len).toString('latin1', 0, len);
    }
    return this.intString(n);
  }
  doubleBinary(): number { return this.take(8).readDoubleLE(0); }
  /** Type-3 zset scores: a length byte (253 nan, 254 inf, 255 -inf) then ASCII. */
  doubleText(): number {
    const n = this.byte();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    return parseScore(this.take(n).toString('latin1', 0, n));
  }
}

function parseScore(s: string): number {
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  const d = Number(s);
  if (s.length === 0 || Number.isNaN(d)) bad();
  return d;
}

/** Writes the type byte and the value encoding, choosing the encoding Redis 7.0 would have for it. */
export function writeValue(w: ByteWriter, v: Value, lim: EncodingLimits = DEFAULT_LIMITS, key?: string): void {
  // In a file the key sits between the type byte and the value; in a DUMP payload there is no key.
  const head = (type: number): void => { w.byte(type); if (key !== undefined) w.string(key, lim.compression); };
  if (typeof v === 'string') { head(T.STRING); w.string(v, lim.compression); return; }
  if (v instanceof Map) {
    let small = v.size <= lim.hashMaxListpackEntries;
    if (small) for (const [f, x] of v) if (f.length > lim.hashMaxListpackValue || x.length > lim.hashMaxListpackValue) { small = false; break; }
    if (small) {
      const lp = new ListpackBuilder();
      for (const [f, x] of v) { lp.append(f); lp.append(x); }
      head(T.HASH_LISTPACK); w.rawString(lp.finish(), lim.compression);
    } else {
      head(T.HASH); w.length(v.size);
      for (const [f, x] of v) { w.string(f, lim.compression); w.string(x, lim.compression); }
    }
    return;
  }
  if (v instanceof Set) {
    if (v.size <= lim.setMaxIntsetEntries && v.size > 0) {
      const ints: bigint[] = [];
      for (const m of v) { const i = canonicalInt(m); if (i === undefined) break; ints.push(i); }
      if (ints.length === v.size) { head(T.SET_INTSET); w.rawString(encodeIntset(ints), lim.compression); return; }
    }
    head(T.SET); w.length(v.size);
    for (const m of v) w.string(m, lim.compression);
    return;
  }
  if (v.kind === 'list') {
    const nodes: Buffer[] = [];
    const fill = lim.listMaxListpackSize;
    const byteLimit = fill < 0 ? [4096, 8192, 16384, 32768, 65536][Math.min(-fill, 5) - 1]! : Infinity;
    let lp = new ListpackBuilder();
    for (const e of v) {
      // Mirrors _quicklistNodeAllowInsert: the raw element size plus an overhead estimate must stay under the node limit.
      const fits = lp.count === 0 || (fill < 0 ? lp.size + e.length + 8 <= byteLimit : lp.count < fill);
      if (!fits) { nodes.push(lp.finish()); lp = new ListpackBuilder(); }
      lp.append(e);
    }
    if (lp.count > 0) nodes.push(lp.finish());
    head(T.LIST_QUICKLIST_2); w.length(nodes.length);
    for (const n of nodes) { w.length(2); w.rawString(n, lim.compression); }
    return;
  }
  // sorted set
  let small = v.size <= lim.zsetMaxListpackEntries;
  if (small) for (const [m] of v.entries()) if (m.length > lim.zsetMaxListpackValue) { small = false; break; }
  if (small) {
    const lp = new ListpackBuilder();
    for (const [m, s] of v.entries()) { lp.append(m); lp.append(formatDouble17g(s)); }
    head(T.ZSET_LISTPACK); w.rawString(lp.finish(), lim.compression);
  } else {
    const all = [...v.entries()];
    head(T.ZSET_2); w.length(all.length);
    // Redis saves from the tail so loading inserts at the head cheaply.
    for (let i = all.length - 1; i >= 0; i--) { w.string(all[i]![0], lim.compression); w.doubleLE(all[i]![1]); }
  }
}


function pairsToHash(items: string[]): Map<string, string> {
  if (items.length % 2) bad();
  const m = new Map<string, string>();
  for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
  return m;
}

function pairsToZSet(items: string[]): Value {
  if (items.length % 2) bad();
  const z = createZSet();
  for (let i = 0; i < items.length; i += 2) z.add(items[i]!, parseScore(items[i + 1]!));
  return z;
}

export function isKnownType(t: number): boolean {
  return (t >= 0 && t <= 5) || (t >= 9 && t <= 14) || t === 16 || t === 17 || t === 18;
}

/** Reads the value encoding of a given type byte; streams and modules are refused. */
export function readValue(r: ByteReader, type: number): Value {
  switch (type) {
    case T.STRING: return r.string();
    case T.LIST: {
      const n = r.length();
      const l = createList();
      for (let i = 0; i < n; i++) l.pushTail(r.string());
      return l;
    }
    case T.SET: {
      const n = r.length();
      const s = new Set<string>();
      for (let i = 0; i < n; i++) s.add(r.string());
      return s;
    }
    case T.ZSET:
    case T.ZSET_2: {
      const n = r.length();
      const z = createZSet();
      for (let i = 0; i < n; i++) { const m = r.string(); z.add(m, type === T.ZSET ? r.doubleText() : r.doubleBinary()); }
      return z;
    }
    case T.HASH: {
      const n = r.length();
      const m = new Map<string, string>();
      for (let i = 0; i < n; i++) { const f = r.string(); m.set(f, r.string()); }
      return m;
    }
    case T.HASH_ZIPMAP: return pairsToHash(decodeZipmap(r.stringBuf()));
    case T.LIST_ZIPLIST: return createList(decodeZiplist(r.stringBuf()));
    case T.SET_INTSET: return new Set(decodeIntset(r.stringBuf()));
    case T.ZSET_ZIPLIST: return pairsToZSet(decodeZiplist(r.stringBuf()));
    case T.HASH_ZIPLIST: return pairsToHash(decodeZiplist(r.stringBuf()));
    case T.HASH_LISTPACK: return pairsToHash(decodeListpack(r.stringBuf()));
    case T.ZSET_LISTPACK: return pairsToZSet(decodeListpack(r.stringBuf()));
    case T.LIST_QUICKLIST: {
      const n = r.length();
      const l = createList();
      for (let i = 0; i < n; i++) for (const e of decodeZiplist(r.stringBuf())) l.pushTail(e);
      return l;
    }
    case T.LIST_QUICKLIST_2: {
      const n = r.length();
      const l = createList();
      for (let i = 0; i < n; i++) {
        const container = r.length();
        if (container === 1) l.pushTail(r.string());
        else if (container === 2) for (const e of decodeListpack(r.stringBuf())) l.pushTail(e);
        else bad();
      }
      return l;
    }
    default: bad();
  }
}

/** One key as the loader reports it. */
export interface LoadedKey { db: number; key: string; value: Value; expireMs: number | undefined }

export interface RdbLoadResult {
  version: number;
  aux: Map<string, string>;
  keys: number;
  /** Bytes consumed (the RDB may be followed by other data in a replication stream). */
  bytes: number;
}

/** Parses a whole RDB file; every key goes to onKey. Throws Error with a one-line reason. */
export function loadRdb(buf: Buffer, onKey: (k: LoadedKey) => void): RdbLoadResult {
  if (buf.length < 9 || buf.toString('latin1', 0, 5) !== 'REDIS') throw new Error('Wrong signature trying to load DB from file');
  const version = parseInt(buf.toString('latin1', 5, 9), 10);
  if (!(version >= 1 && version <= RDB_VERSION)) throw new Error(`Can't handle RDB format version ${buf.toString('latin1', 5, 9)}`);
  const r = new ByteReader(buf);
  r.pos = 9;
  const aux = new Map<string, string>();
  let db = 0, keys = 0;
  let expireMs: number | undefined;
  try {
    for (;;) {
      const type = r.byte();
      if (type === OP.EXPIRETIME_MS) { expireMs = Number(r.take(8).readBigInt64LE(0)); continue; }
      if (type === OP.EXPIRETIME) { expireMs = r.take(4).readUInt32LE(0) * 1000; continue; }
      if (type === OP.FREQ) { r.byte(); continue; }
      if (type === OP.IDLE) { r.length(); continue; }
      if (type === OP.EOF) break;
      if (type === OP.SELECTDB) { db = r.length(); continue; }
      if (type === OP.RESIZEDB) { r.length(); r.length(); continue; }
      if (type === OP.AUX) { const k = r.string(); aux.set(k, r.string()); continue; }
      if (type === OP.FUNCTION2) { r.string(); continue; }
      if (type === OP.MODULE_AUX || type === OP.FUNCTION_PRE_GA) throw new Error('RDB contains module data or pre-GA functions, which this server cannot load');
      if (!isKnownType(type)) throw new Error(`RDB contains an unsupported value type ${type} (streams and modules are not supported)`);
      const key = r.string();
      const value = readValue(r, type);
      onKey({ db, key, value, expireMs });
      keys++;
      expireMs = undefined;
    }
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg === 'Bad data format' ? `Short read or corrupt RDB at offset ${r.pos}` : msg);
  }
  if (version >= 5) {
    const stored = r.take(8);
    if (!stored.equals(Buffer.alloc(8))) {
      const c = crc64Bytes(crc64(buf, 0, r.pos - 8));
      if (!c.equals(stored)) throw new Error('Wrong RDB checksum. Aborting now.');
    }
  }
  return { version, aux, keys, bytes: r.pos };
}

/**
 * One database to save, captured at one point in time: keys and values in parallel arrays. A string value is kept as
 * is (JS strings never change); any other value is captured as a Buffer holding what writeValue writes for it (type
 * byte, key, value), since collections change in place.
 */
export interface SavedDb {
  index: number;
  expires: number;
  keys: string[];
  values: Array<Value | Buffer>;
  /** Absolute expiry per key (unix ms), absent when the db has no TTLs. */
  expireAt?: Array<number | undefined>;
}

export interface RdbSource {
  /** Databases to save, in order. */
  dbs: SavedDb[];
  aux: Array<[string, string | number]>;
}

/** The type byte, key and value of one key as an RDB file holds them (captured before the value can change). */
export function encodeKeyValue(key: string, v: Value, lim: EncodingLimits = DEFAULT_LIMITS): Buffer {
  const w = new ByteWriter(64);
  writeValue(w, v, lim, key);
  return w.result();
}

/** Produces an RDB file piece by piece (header, aux fields, databases, EOF, CRC64), so it can be sent as it is made. */
export class RdbEncoder {
  private db = -1;
  private i = 0;
  private crc: Crc64State = { lo: 0, hi: 0 };
  /** The last piece (EOF and checksum) was returned. */
  finished = false;
  /** Keys written so far (a paced save sleeps per key, as rdb-key-save-delay asks). */
  keysWritten = 0;

  constructor(private readonly src: RdbSource, private readonly lim: EncodingLimits = DEFAULT_LIMITS) {}

  /**
   * The next piece, of about `budget` bytes or more (the last one may be shorter), holding at most `maxKeys` keys;
   * null once the CRC was returned.
   */
  next(budget: number, maxKeys = Infinity): Buffer | null {
    if (this.finished) return null;
    const w = new ByteWriter(Number.isFinite(budget) ? Math.max(budget, 1024) + 1024 : 1 << 16);
    if (this.db < 0) {
      w.latin1('REDIS' + String(RDB_VERSION).padStart(4, '0'));
      for (const [k, v] of this.src.aux) {
        w.byte(OP.AUX);
        w.string(k, false);
        w.string(String(v), false);
      }
      this.db = 0;
      this.i = 0;
    }
    const dbs = this.src.dbs;
    const lim = this.lim;
    let keysLeft = maxKeys;
    while (this.db < dbs.length && w.pos < budget && keysLeft > 0) {
      const d = dbs[this.db]!;
      const n = d.keys.length;
      if (this.i === 0 && n > 0) {
        w.byte(OP.SELECTDB); w.length(d.index);
        w.byte(OP.RESIZEDB); w.length(n); w.length(d.expires);
      }
      const { keys, values, expireAt } = d;
      let i = this.i;
      const stop = Math.min(n, i + keysLeft);
      for (; i < stop && w.pos < budget; i++) {
        if (expireAt !== undefined) {
          const at = expireAt[i];
          if (at !== undefined) { w.byte(OP.EXPIRETIME_MS); w.u64le(at); }
        }
        const v = values[i]!;
        if (typeof v === 'string') {
          w.byte(T.STRING);
          w.string(keys[i]!, lim.compression);
          w.string(v, lim.compression);
        } else if (Buffer.isBuffer(v)) w.bytes(v);
        else writeValue(w, v, lim, keys[i]);
      }
      keysLeft -= i - this.i;
      this.keysWritten += i - this.i;
      this.i = i;
      if (i >= n) { this.db++; this.i = 0; }
    }
    if (this.db >= dbs.length) {
      w.byte(OP.EOF);
      this.crc = crc64Update(this.crc, w.buf, 0, w.pos);
      const tail = crc64Bytes(this.crc);
      w.bytes(tail);
      this.finished = true;
      return w.result();
    }
    this.crc = crc64Update(this.crc, w.buf, 0, w.pos);
    return w.result();
  }
}

/** Serialises a whole RDB file (header, aux fields, databases, EOF, CRC64). */
export function writeRdb(src: RdbSource, lim: EncodingLimits = DEFAULT_LIMITS): Buffer {
  return new RdbEncoder(src, lim).next(Infinity)!;
}
