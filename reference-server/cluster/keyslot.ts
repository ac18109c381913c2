/**
 * Hash slots: CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key, or of its hash tag, modulo 16384, as
 * Redis 7.0's keyHashSlot computes them. Keys are latin1 strings (one char per byte, as the RESP parser makes them).
 */

export const CLUSTER_SLOTS = 16384;

const CRC16_TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC16-XMODEM of bytes [start, end) of a latin1 string. */
export function crc16(key: string, start = 0, end = key.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff]!;
  return crc;
}

/**
 * The slot of a key: only the bytes between the first `{` and the first `}` after it are hashed when there is at
 * least one byte between them; otherwise the whole key.
 */
export function keyHashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open === -1) return crc16(key) & 0x3fff;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return crc16(key) & 0x3fff;
  return crc16(key, open + 1, close) & 0x3fff;
}
