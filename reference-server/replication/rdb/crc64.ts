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

export function crc64Update(state: Crc64State, buf: Uint8Array, start = 0, end = buf.length): Crc64State {
  let lo = state.lo, hi = state.hi;
  let i = start;
  const [l0, l1, l2, l3, l4, l5, l6, l7] = SLICE_LO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  const [h0, h1, h2, h3, h4, h5, h6, h7] = SLICE_HI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  for (; i + 8 <= end; i += 8) {
    const a = (lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    const b = (hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24))) >>> 0;
    const a0 = a & 0xff, a1 = (a >>> 8) & 0xff, a2 = (a >>> 16) & 0xff, a3 = a >>> 24;
    const b0 = b & 0xff, b1 = (b >>> 8) & 0xff, b2 = (b >>> 16) & 0xff, b3 = b >>> 24;
    lo = (l7[a0]! ^ l6[a1]! ^ l5[a2]! ^ l4[a3]! ^ l3[b0]! ^ l2[b1]! ^ l1[b2]! ^ l0[b3]!) >>> 0;
    hi = (h7[a0]! ^ h6[a1]! ^ h5[a2]! ^ h4[a3]! ^ h3[b0]! ^ h2[b1]! ^ h1[b2]! ^ h0[b3]!) >>> 0;
  }
  for (; i < end; i++) {
    const idx = (lo ^ buf[i]!) & 0xff;
    lo = (TABLE_LO[idx]! ^ ((lo >>> 8) | (hi << 24))) >>> 0;
    hi = (TABLE_HI[idx]! ^ (hi >>> 8)) >>> 0;
  }
  return { lo, hi };
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
