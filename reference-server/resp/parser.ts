/**
 * Incremental request parser (multibulk and inline), following Redis 7.0's networking.c:
 * a frame is parsed only once it is wholly buffered, and malformed input yields Redis's exact
 * protocol error, after which the connection must be closed.
 */
import { splitArgs } from './splitargs.js';

/** Longest inline request / count line Redis accepts before giving up (PROTO_INLINE_MAX_SIZE). */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;

export class ProtocolError extends Error {}

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** True while the client still has to AUTH: Redis then caps counts and bulk sizes. */
  authRequired: boolean;
}

const CR = 13;
// Node's undocumented-but-stable fast path for one-byte strings (what toString('latin1') calls).
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, s: number, e: number): string }).latin1Slice;
const LF = 10;
const fcc = String.fromCharCode;

/** A short argument as a string: building it in JS avoids a native call per argument. */
function shortString(b: Buffer, s: number, len: number): string {
  switch (len) {
    case 0: return '';
    case 1: return fcc(b[s]);
    case 2: return fcc(b[s], b[s + 1]);
    case 3: return fcc(b[s], b[s + 1], b[s + 2]);
    case 4: return fcc(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    default: return latin1Slice.call(b, s, s + len);
  }
}

/** Reads a count line's digits from `i` up to CR: its value, or -1 if it is not plain (leading zero, sign, too long). */
function plainCount(b: Buffer, i: number, end: number): number {
  let c = b[i];
  if (c < 49 || c > 57) return c === 48 && i + 1 < end && b[i + 1] === CR ? -2 : -1;
  let v = c - 48;
  const stop = Math.min(end, i + 9);
  for (i++; i < stop; i++) {
    c = b[i];
    if (c === CR) return v;
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return -1;
}

const EMPTY = Buffer.alloc(0);

export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Chunks received while a large bulk is incomplete, concatenated once it is whole. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Whether buf / the last pending chunk is the caller's chunk itself rather than a copy (see release). */
  private bufBorrowed = false;
  private pendingBorrowed = false;
  private need = 0;
  private multibulkLen = 0;
  private bulkLen = -1;
  private args: string[] = [];

  /**
   * The previous command's short arguments by position: clients repeat names and keys, and reusing the string
   * saves a copy, the garbage and the hash a Map lookup would compute again.
   */
  private lastArgs: string[] = ['', '', '', ''];

  constructor(readonly limits: ParserLimits) {}

  private arg(k: number, buf: Buffer, pos: number, len: number): string {
    if (k < 4 && len <= 32) {
      const last = this.lastArgs[k];
      if (last.length === len) {
        let i = 0;
        while (i < len && buf[pos + i] === last.charCodeAt(i)) i++;
        if (i === len) return last;
      }
      const s = len <= 8 ? shortString(buf, pos, len) : latin1Slice.call(buf, pos, pos + len);
      this.lastArgs[k] = s;
      return s;
    }
    return len <= 8 ? shortString(buf, pos, len) : latin1Slice.call(buf, pos, pos + len);
  }

  /**
   * Copies out what is still unparsed, for a caller whose chunks live in a buffer that the next read overwrites.
   * A complete pipeline leaves nothing, so the usual cost is one comparison.
   */
  release(): void {
    if (this.bufBorrowed) {
      this.bufBorrowed = false;
      const left = this.buf.length - this.pos;
      this.buf = left > 0 ? Buffer.from(this.buf.subarray(this.pos)) : EMPTY;
      this.pos = 0;
    }
    if (this.pendingBorrowed) {
      this.pendingBorrowed = false;
      const last = this.pending.length - 1;
      this.pending[last] = Buffer.from(this.pending[last]);
    }
  }

  /** Bytes received but not yet consumed by a complete command (for client-query-buffer-limit). */
  get buffered(): number {
    return this.buf.length - this.pos + this.pendingLen;
  }

  feed(chunk: Buffer): void {
    if (this.need > 0 && this.buf.length - this.pos + this.pendingLen + chunk.length < this.need) {
      this.pending.push(chunk);
      this.pendingBorrowed = true;
      this.pendingLen += chunk.length;
      return;
    }
    if (this.pos >= this.buf.length && this.pendingLen === 0) {
      this.buf = chunk;
      this.bufBorrowed = true;
    } else {
      const parts = [this.buf.subarray(this.pos), ...this.pending, chunk];
      this.buf = Buffer.concat(parts);
      this.bufBorrowed = false;
      this.pendingBorrowed = false;
      this.pending = [];
      this.pendingLen = 0;
    }
    this.pos = 0;
    this.need = 0;
  }

  /** The next complete command, an empty array for a blank request, or null when more bytes are needed. */
  next(): string[] | null {
    const buf = this.buf;
    if (this.pos >= buf.length) return null;
    if (this.multibulkLen === 0 && buf[this.pos] !== 42 /* '*' */) return this.inline();
    return this.multibulk();
  }

  private inline(): string[] | null {
    const buf = this.buf;
    const nl = buf.indexOf(LF, this.pos);
    if (nl < 0) {
      if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === CR) end--;
    const line = latin1Slice.call(buf, this.pos, end);
    this.pos = nl + 1;
    const argv = splitArgs(line);
    if (argv === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    return argv;
  }

  /**
   * Where the CR ending a count line starting at `start` is, as buf.indexOf(CR, start - 1) would say: a short
   * all-digit line is scanned inline (the usual case), anything else falls back to indexOf.
   */
  private digitsEnd(buf: Buffer, start: number): number {
    const len = buf.length;
    if (buf[start - 1] === CR) return start - 1;
    let i = start;
    while (i < len && i - start < 16) {
      const c = buf[i];
      if (c === CR) return i;
      if (c < 48 || c > 57) break;
      i++;
    }
    return buf.indexOf(CR, start - 1);
  }

  /**
   * A whole, well-formed multibulk at `pos` parsed in one pass with locals only; null (nothing consumed) when it is
   * incomplete or anything is unusual, and the general parser then handles it byte for byte as Redis does.
   */
  private fast(buf: Buffer, pos: number): string[] | null {
    const end = buf.length;
    const n = plainCount(buf, pos + 1, end);
    if (n <= 0 || n > 64) return null;
    let i = pos + 1;
    while (buf[i] !== CR) i++;
    i += 2;
    const argv: string[] = new Array<string>(n);
    const maxBulk = this.limits.maxBulkLen;
    for (let k = 0; k < n; k++) {
      if (i >= end || buf[i] !== 36 /* '$' */) return null;
      let len = plainCount(buf, i + 1, end);
      if (len === -2) len = 0;
      else if (len < 0) return null;
      if (len > maxBulk) return null;
      i += 2;
      while (buf[i] !== CR) i++;
      i += 2;
      if (end - i < len + 2) return null;
      argv[k] = this.arg(k, buf, i, len);
      i += len + 2;
    }
    this.pos = i;
    return argv;
  }

  private multibulk(): string[] | null {
    const buf = this.buf;
    if (this.multibulkLen === 0) {
      if (!this.limits.authRequired) {
        const argv = this.fast(buf, this.pos);
        if (argv !== null) return argv;
      }
      const cr = this.digitsEnd(buf, this.pos + 1);
      if (cr < 0) {
        if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big mbulk count string');
        return null;
      }
      if (cr + 2 > buf.length) return null;
      const ll = parseLL(buf, this.pos + 1, cr);
      if (ll === null || ll > 2147483647) throw new ProtocolError('Protocol error: invalid multibulk length');
      if (ll > 10 && this.limits.authRequired) throw new ProtocolError('Protocol error: unauthenticated multibulk length');
      this.pos = cr + 2;
      if (ll <= 0) return [];
      this.multibulkLen = ll;
      this.args = [];
    }
    while (this.multibulkLen > 0) {
      if (this.bulkLen === -1) {
        const cr = this.digitsEnd(buf, this.pos + 1);
        if (cr < 0) {
          if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big bulk count string');
          return null;
        }
        if (cr + 2 > buf.length) return null;
        if (buf[this.pos] !== 36 /* '$' */) {
          throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos])}'`);
        }
        const ll = parseLL(buf, this.pos + 1, cr);
        if (ll === null || ll < 0 || ll > this.limits.maxBulkLen) throw new ProtocolError('Protocol error: invalid bulk length');
        if (ll > 16384 && this.limits.authRequired) throw new ProtocolError('Protocol error: unauthenticated bulk length');
        this.pos = cr + 2;
        this.bulkLen = ll;
      }
      if (buf.length - this.pos < this.bulkLen + 2) {
        this.need = this.bulkLen + 2;
        return null;
      }
      this.args.push(this.arg(this.args.length, buf, this.pos, this.bulkLen));
      this.pos += this.bulkLen + 2;
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    const argv = this.args;
    this.args = [];
    return argv;
  }
}

/** Redis's string2ll: optional '-', no leading zeros, no '+', fits in 64 bits; null otherwise. */
function parseLL(buf: Buffer, start: number, end: number): number | null {
  if (start >= end) return null;
  if (end - start === 1 && buf[start] === 48) return 0;
  let i = start;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i >= end) return null;
  }
  if (buf[i] < 49 || buf[i] > 57) return null;
  if (end - i > 19) return null;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  return neg ? -v : v;
}
