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

export function crc64Update(state: Crc64State, buf: Uint8Array, start = 0, end = buf.length): Crc64State {
  let lo = state.lo, hi = state.hi;
  for (let i = start; i < end; i++) {
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
