/** CRC-64/Jones (reflected poly 0xad93d23594c935a9, init 0), the checksum Redis puts after RDB files and DUMP payloads. */
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
(() => {
  // Reflected form of the Jones polynomial, split in two 32-bit halves so no BigInt is needed per byte.
  const polyHi = 0x95ac9329, polyLo = 0xac4bc9b5;
  for (let n = 0; n < 256; n++) {
    let lo = n, hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) { lo = (lo ^ polyLo) >>> 0; hi = (hi ^ polyHi) >>> 0; }
    }
    TABLE_LO[n] = lo; TABLE_HI[n] = hi;
  }
})();

/** Running CRC as two uint32 halves. */
export interface Crc64State { lo: number; hi: number }

// Slicing-by-8 tables: T[k][n] is the CRC of byte n followed by k zero bytes (Redis's crcspeed does the same).
const SLICE_LO: Uint32Array[] = [TABLE_LO];
const SLICE_HI: Uint32Array[] = [TABLE_HI];
for (let k = 1; k < 8; k++) {
  const lo = new Uint32Array(256), hi = new Uint32Array(256);
  const plo = SLICE_LO[k - 1]!, phi = SLICE_HI[k - 1]!;
  for (let n = 0; n < 256; n++) {
    const idx = plo[n]! & 0xff;
    lo[n] = (TABLE_LO[idx]! ^ ((plo[n]! >>> 8) | (phi[n]! << 24))) >>> 0;
    hi[n] = (TABLE_HI[idx]! ^ (phi[n]! >>> 8)) >>> 0;
  }
  SLICE_LO.push(lo); SLICE_HI.push(hi);
}

// Int32 copies of the tables: V8 keeps int32 values unboxed, while uint32 values above 2^31 become doubles.
const S_LO = SLICE_LO.map((t) => new Int32Array(t.buffer.slice(0)));
const S_HI = SLICE_HI.map((t) => new Int32Array(t.buffer.slice(0)));
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function crc64Update(state: Crc64State, buf: Uint8Array, start = 0, end = buf.length): Crc64State {
  let lo = state.lo | 0, hi = state.hi | 0;
  let i = start;
  const [l0, l1, l2, l3, l4, l5, l6, l7] = S_LO as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  const [h0, h1, h2, h3, h4, h5, h6, h7] = S_HI as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  const t0 = l0, u0 = h0;
  // Bytes one at a time up to a 4-byte boundary, so the bulk can be read as aligned 32-bit words.
  while (i < end && ((buf.byteOffset + i) & 3) !== 0) {
    const idx = (lo ^ buf[i]!) & 0xff;
    lo = t0[idx]! ^ ((lo >>> 8) | (hi << 24));
    hi = u0[idx]! ^ (hi >>> 8);
    i++;
  }
  if (LITTLE_ENDIAN && end - i >= 8) {
    const words = new Int32Array(buf.buffer, buf.byteOffset + i, (end - i) >> 2);
    const nw = words.length & ~1;
    for (let w = 0; w < nw; w += 2) {
      const a = lo ^ words[w]!;
      const b = hi ^ words[w + 1]!;
      lo = l7[a & 0xff]! ^ l6[(a >>> 8) & 0xff]! ^ l5[(a >>> 16) & 0xff]! ^ l4[a >>> 24]! ^ l3[b & 0xff]! ^ l2[(b >>> 8) & 0xff]! ^ l1[(b >>> 16) & 0xff]! ^ l0[b >>> 24]!;
      hi = h7[a & 0xff]! ^ h6[(a >>> 8) & 0xff]! ^ h5[(a >>> 16) & 0xff]! ^ h4[a >>> 24]! ^ h3[b & 0xff]! ^ h2[(b >>> 8) & 0xff]! ^ h1[(b >>> 16) & 0xff]! ^ h0[b >>> 24]!;
    }
    i += nw * 4;
  }
  for (; i < end; i++) {
    const idx = (lo ^ buf[i]!) & 0xff;
    lo = t0[idx]! ^ ((lo >>> 8) | (hi << 24));
    hi = u0[idx]! ^ (hi >>> 8);
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

export function crc64(buf: Uint8Array, start = 0, end = buf.length): Crc64State {
  return crc64Update({ lo: 0, hi: 0 }, buf, start, end);
}

/** The CRC as 8 little-endian bytes, as Redis stores it. */
export function crc64Bytes(state: Crc64State): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(state.lo, 0);
  b.writeUInt32LE(state.hi, 4);
  return b;
}
