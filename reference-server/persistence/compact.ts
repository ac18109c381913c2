/** Compact encodings inside RDB strings: listpack (7.0), ziplist (older files) and intset. */

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;

/** Redis's string2ll: the string is the canonical decimal form of an int64 (no '+', no leading zeros, no "-0"). */
export function canonicalInt(s: string): bigint | undefined {
  const n = s.length;
  if (n === 0 || n > 20) return undefined;
  if (n === 1) { const c = s.charCodeAt(0); return c >= 48 && c <= 57 ? BigInt(c - 48) : undefined; }
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1;
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return undefined;
  for (let j = i + 1; j < n; j++) { const c = s.charCodeAt(j); if (c < 48 || c > 57) return undefined; }
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Builds a listpack the way lpAppend does: integer-looking strings get integer encodings. */
export class ListpackBuilder {
  private parts: Buffer[] = [];
  private bytes = 6;
  count = 0;

  /** Size in bytes the listpack would have with this entry appended (for quicklist node limits). */
  sizeWith(s: string): number {
    return this.bytes + 1 + ListpackBuilder.entrySize(s);
  }

  get size(): number { return this.bytes + 1; }

  static entrySize(s: string): number {
    const e = encodeEntry(s);
    return e.length;
  }

  append(s: string): void {
    const e = encodeEntry(s);
    this.parts.push(e);
    this.bytes += e.length;
    this.count++;
  }

  finish(): Buffer {
    const total = this.bytes + 1;
    const head = Buffer.alloc(6);
    head.writeUInt32LE(total, 0);
    head.writeUInt16LE(this.count < 65535 ? this.count : 65535, 4);
    return Buffer.concat([head, ...this.parts, Buffer.from([0xff])], total);
  }
}

function encodeEntry(s: string): Buffer {
  let enc: Buffer;
  const iv = s.length <= 20 ? canonicalInt(s) : undefined;
  if (iv !== undefined) {
    const v = Number(iv);
    if (iv >= 0n && iv <= 127n) enc = Buffer.from([v]);
    else if (iv >= -4096n && iv <= 4095n) { const u = v < 0 ? (1 << 13) + v : v; enc = Buffer.from([(u >> 8) | 0xc0, u & 0xff]); }
    else if (iv >= -32768n && iv <= 32767n) { enc = Buffer.alloc(3); enc[0] = 0xf1; enc.writeInt16LE(v, 1); }
    else if (iv >= -8388608n && iv <= 8388607n) { enc = Buffer.alloc(4); enc[0] = 0xf2; enc.writeIntLE(v, 1, 3); }
    else if (iv >= -2147483648n && iv <= 2147483647n) { enc = Buffer.alloc(5); enc[0] = 0xf3; enc.writeInt32LE(v, 1); }
    else { enc = Buffer.alloc(9); enc[0] = 0xf4; enc.writeBigInt64LE(iv, 1); }
  } else {
    const len = s.length;
    if (len < 64) { enc = Buffer.allocUnsafe(1 + len); enc[0] = 0x80 | len; enc.write(s, 1, 'latin1'); }
    else if (len < 4096) { enc = Buffer.allocUnsafe(2 + len); enc[0] = 0xe0 | (len >> 8); enc[1] = len & 0xff; enc.write(s, 2, 'latin1'); }
    else { enc = Buffer.allocUnsafe(5 + len); enc[0] = 0xf0; enc.writeUInt32LE(len, 1); enc.write(s, 5, 'latin1'); }
  }
  const l = enc.length;
  const bl = backlenSize(l);
  const out = Buffer.allocUnsafe(l + bl);
  enc.copy(out, 0);
  // Backlen bytes: most significant 7-bit group first, every byte but the first flagged with 128.
  if (bl === 1) out[l] = l;
  else if (bl === 2) { out[l] = l >> 7; out[l + 1] = (l & 127) | 128; }
  else if (bl === 3) { out[l] = l >> 14; out[l + 1] = ((l >> 7) & 127) | 128; out[l + 2] = (l & 127) | 128; }
  else if (bl === 4) { out[l] = l >> 21; out[l + 1] = ((l >> 14) & 127) | 128; out[l + 2] = ((l >> 7) & 127) | 128; out[l + 3] = (l & 127) | 128; }
  else { out[l] = Math.floor(l / 2 ** 28); out[l + 1] = ((l >> 21) & 127) | 128; out[l + 2] = ((l >> 14) & 127) | 128; out[l + 3] = ((l >> 7) & 127) | 128; out[l + 4] = (l & 127) | 128; }
  return out;
}

function bad(): never { throw new Error('Bad data format'); }

/** Entries of a listpack blob, as strings. */
export function decodeListpack(b: Buffer): string[] {
  if (b.length < 7 || b.readUInt32LE(0) !== b.length) bad();
  const out: string[] = [];
  let p = 6;
  while (true) {
    if (p >= b.length) bad();
    const c = b[p]!;
    if (c === 0xff) break;
    let entryLen: number;
    if ((c & 0x80) === 0) { out.push(String(c)); entryLen = 1; }
    else if ((c & 0xc0) === 0x80) { const len = c & 0x3f; out.push(b.toString('latin1', p + 1, p + 1 + len)); entryLen = 1 + len; }
    else if ((c & 0xe0) === 0xc0) { let v = ((c & 0x1f) << 8) | b[p + 1]!; if (v >= 1 << 12) v -= 1 << 13; out.push(String(v)); entryLen = 2; }
    else if ((c & 0xf0) === 0xe0) { const len = ((c & 0x0f) << 8) | b[p + 1]!; out.push(b.toString('latin1', p + 2, p + 2 + len)); entryLen = 2 + len; }
    else if (c === 0xf0) { const len = b.readUInt32LE(p + 1); out.push(b.toString('latin1', p + 5, p + 5 + len)); entryLen = 5 + len; }
    else if (c === 0xf1) { out.push(String(b.readInt16LE(p + 1))); entryLen = 3; }
    else if (c === 0xf2) { out.push(String(b.readIntLE(p + 1, 3))); entryLen = 4; }
    else if (c === 0xf3) { out.push(String(b.readInt32LE(p + 1))); entryLen = 5; }
    else if (c === 0xf4) { out.push(String(b.readBigInt64LE(p + 1))); entryLen = 9; }
    else bad();
    p += entryLen + backlenSize(entryLen);
    if (p > b.length) bad();
  }
  return out;
}

/** Entries of a ziplist blob (RDB files from Redis < 7.0). */
export function decodeZiplist(b: Buffer): string[] {
  if (b.length < 11 || b.readUInt32LE(0) !== b.length) bad();
  const out: string[] = [];
  let p = 10;
  while (true) {
    if (p >= b.length) bad();
    if (b[p] === 0xff) break;
    p += b[p] === 0xfe ? 5 : 1;
    const c = b[p]!;
    const top = c >> 6;
    if (top === 0) { const len = c & 0x3f; out.push(b.toString('latin1', p + 1, p + 1 + len)); p += 1 + len; }
    else if (top === 1) { const len = ((c & 0x3f) << 8) | b[p + 1]!; out.push(b.toString('latin1', p + 2, p + 2 + len)); p += 2 + len; }
    else if (top === 2) { const len = b.readUInt32BE(p + 1); out.push(b.toString('latin1', p + 5, p + 5 + len)); p += 5 + len; }
    else if (c === 0xc0) { out.push(String(b.readInt16LE(p + 1))); p += 3; }
    else if (c === 0xd0) { out.push(String(b.readInt32LE(p + 1))); p += 5; }
    else if (c === 0xe0) { out.push(String(b.readBigInt64LE(p + 1))); p += 9; }
    else if (c === 0xf0) { out.push(String(b.readIntLE(p + 1, 3))); p += 4; }
    else if (c === 0xfe) { out.push(String(b.readInt8(p + 1))); p += 2; }
    else if (c >= 0xf1 && c <= 0xfd) { out.push(String((c & 0x0f) - 1)); p += 1; }
    else bad();
    if (p > b.length) bad();
  }
  return out;
}

/** Old zipmap blobs (type 9, Redis 2.x): field/value pairs. */
export function decodeZipmap(b: Buffer): string[] {
  const out: string[] = [];
  let p = 1;
  const readLen = (): number => {
    const c = b[p]!;
    if (c < 254) { p++; return c; }
    if (c === 254) { const v = b.readUInt32LE(p + 1); p += 5; return v; }
    return -1;
  };
  while (p < b.length) {
    const flen = readLen();
    if (flen < 0) break;
    out.push(b.toString('latin1', p, p + flen)); p += flen;
    const vlen = readLen();
    if (vlen < 0) bad();
    const free = b[p++]!;
    out.push(b.toString('latin1', p, p + vlen)); p += vlen + free;
  }
  return out;
}

export function decodeIntset(b: Buffer): string[] {
  if (b.length < 8) bad();
  const width = b.readUInt32LE(0), n = b.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || b.length !== 8 + width * n) bad();
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = 8 + i * width;
    out[i] = width === 2 ? String(b.readInt16LE(o)) : width === 4 ? String(b.readInt32LE(o)) : String(b.readBigInt64LE(o));
  }
  return out;
}

/** An intset of the given integers (sorted, narrowest width that fits them all). */
export function encodeIntset(values: bigint[]): Buffer {
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of values) {
    if (v < -2147483648n || v > 2147483647n) { width = 8; break; }
    if (v < -32768n || v > 32767n) width = 4;
  }
  const b = Buffer.alloc(8 + width * values.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(values.length, 4);
  values.forEach((v, i) => {
    const o = 8 + i * width;
    if (width === 2) b.writeInt16LE(Number(v), o);
    else if (width === 4) b.writeInt32LE(Number(v), o);
    else b.writeBigInt64LE(v, o);
  });
  return b;
}
