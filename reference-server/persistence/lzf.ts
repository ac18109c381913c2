/** LZF as liblzf (and so Redis) encodes it: literal runs (ctrl < 32) and back references. */
export function lzfDecompress(src: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0, op = 0;
  while (ip < src.length) {
    let ctrl = src[ip++]!;
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > src.length) throw new Error('Bad data format');
      for (let i = 0; i < ctrl; i++) out[op++] = src[ip++]!;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= src.length) throw new Error('Bad data format');
        len += src[ip++]!;
      }
      if (ip >= src.length) throw new Error('Bad data format');
      let ref = op - ((ctrl & 0x1f) << 8) - 1 - src[ip++]!;
      len += 2;
      if (ref < 0 || op + len > outLen) throw new Error('Bad data format');
      for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
    }
  }
  if (op !== outLen) throw new Error('Bad data format');
  return out;
}

const HLOG = 16;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

// One hash table for every call: entries hold position + a per-call base, so older calls' entries read as empty
// (as a table freshly filled with -1 would) without clearing 256 KB per string.
const HTAB = new Int32Array(1 << HLOG);
let nextBase = 1;

/** liblzf's compressor (same hash, same greedy matching); undefined when the output would not fit in maxOut bytes. */
export function lzfCompress(src: Uint8Array, maxOut: number): Buffer | undefined {
  const out = Buffer.allocUnsafe(Math.max(0, maxOut) + 4);
  const n = lzfCompressInto(src, src.length, out, maxOut);
  return n === 0 ? undefined : out.subarray(0, n);
}

/** lzfCompress of src[0, inLen) into out (at least maxOut + 4 bytes long); the compressed length, or 0 when it does not fit. */
export function lzfCompressInto(src: Uint8Array, inLen: number, out: Uint8Array, maxOut: number): number {
  if (inLen < 3) return 0;
  if (nextBase + inLen + 1 >= 0x7fffffff) { HTAB.fill(0); nextBase = 1; }
  const base = nextBase;
  nextBase += inLen + 1;
  const htab = HTAB;
  const idx = (h: number): number => (((h >>> (3 * 8 - HLOG)) - h * 5) & ((1 << HLOG) - 1));
  let ip = 0, op = 1, lit = 0;
  let hval = (src[0]! << 8) | src[1]!;
  while (ip < inLen - 2) {
    hval = ((hval << 8) | src[ip + 2]!) & 0xffffff;
    const slot = idx(hval);
    const stored = htab[slot]!;
    const ref = stored >= base ? stored - base : -1;
    htab[slot] = base + ip;
    const off = ip - ref - 1;
    if (ref > 0 && off < MAX_OFF && src[ref + 2] === src[ip + 2] && src[ref + 1] === src[ip + 1] && src[ref] === src[ip]) {
      let len = 2;
      const maxLen = Math.min(inLen - ip - len, MAX_REF);
      if (op + 3 + 1 >= maxOut && op - (lit ? 0 : 1) + 3 + 1 >= maxOut) return 0;
      out[op - lit - 1] = lit - 1;
      if (lit === 0) op--;
      do { len++; } while (len < maxLen && src[ref + len] === src[ip + len]);
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0; op++;
      ip += len + 1;
      if (ip >= inLen - 2) break;
      ip -= 2;
      hval = (src[ip]! << 8) | src[ip + 1]!;
      hval = ((hval << 8) | src[ip + 2]!) & 0xffffff;
      htab[idx(hval)] = base + ip;
      ip++;
      hval = ((hval << 8) | src[ip + 2]!) & 0xffffff;
      htab[idx(hval)] = base + ip;
      ip++;
    } else {
      if (op >= maxOut) return 0;
      lit++; out[op++] = src[ip++]!;
      if (lit === MAX_LIT) { out[op - lit - 1] = lit - 1; lit = 0; op++; }
    }
  }
  if (op + 3 > maxOut) return 0;
  while (ip < inLen) {
    lit++; out[op++] = src[ip++]!;
    if (lit === MAX_LIT) { out[op - lit - 1] = lit - 1; lit = 0; op++; }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return op;
}
