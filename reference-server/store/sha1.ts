/**
 * SHA-1 (FIPS 180-4) for DEBUG DIGEST, which hashes every element of the dataset two or three times: Node's
 * createHash costs about 1.5 µs a call in object set-up alone, so a digest of a few hundred thousand elements took
 * seconds where redis-server takes a fraction. Inputs are latin1 strings (one byte per char, as the store keeps
 * them) or bytes; the 20-byte result is written into `out`, which may be the input itself.
 */

const W = new Int32Array(80);
let block = new Uint8Array(256);

export function sha1Into(data: string | Uint8Array, out: Uint8Array): void {
  const len = data.length;
  // The message, a 0x80 byte, zeros, and the 64-bit bit length: a multiple of 64 bytes.
  const total = (((len + 8) >>> 6) + 1) << 6;
  if (block.length < total) block = new Uint8Array(total * 2);
  const m = block;
  if (typeof data === 'string') for (let i = 0; i < len; i++) m[i] = data.charCodeAt(i);
  else m.set(data, 0);
  m[len] = 0x80;
  m.fill(0, len + 1, total - 8);
  const hiBits = Math.floor(len / 0x20000000);
  const loBits = (len << 3) >>> 0;
  m[total - 8] = hiBits >>> 24; m[total - 7] = hiBits >>> 16; m[total - 6] = hiBits >>> 8; m[total - 5] = hiBits;
  m[total - 4] = loBits >>> 24; m[total - 3] = loBits >>> 16; m[total - 2] = loBits >>> 8; m[total - 1] = loBits;

  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) {
      const p = off + (i << 2);
      W[i] = (m[p] << 24) | (m[p + 1] << 16) | (m[p + 2] << 8) | m[p + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc | 0; }
      else { f = b ^ c ^ d; k = 0xca62c1d6 | 0; }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  const hs = [h0, h1, h2, h3, h4];
  for (let i = 0; i < 5; i++) {
    const h = hs[i];
    out[i * 4] = h >>> 24; out[i * 4 + 1] = h >>> 16; out[i * 4 + 2] = h >>> 8; out[i * 4 + 3] = h;
  }
}
