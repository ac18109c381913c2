/** Reply writer: encodes RESP2/RESP3 into one byte buffer per client, flushed by the connection once per event-loop turn. */
import type { Reply } from '../commands/command.js';

/** Formats a double like C's printf("%.17g"), which Redis 7.0 uses for replies. */
export function formatDouble17g(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const e = d.toExponential(16);
  const ePos = e.indexOf('e');
  let mant = e.slice(0, ePos);
  const exp = parseInt(e.slice(ePos + 1), 10);
  const neg = mant[0] === '-';
  if (neg) mant = mant.slice(1);
  const digits = mant.replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 17) {
    let frac = digits.slice(1).replace(/0+$/, '');
    out = digits[0] + (frac ? '.' + frac : '') + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
    frac = '';
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    out = intPart + (frac ? '.' + frac : '');
  } else {
    const frac = ('0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
    out = '0.' + frac;
  }
  return neg ? '-' + out : out;
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, s: number, e: number): string }).latin1Slice;
const latin1Write = (Buffer.prototype as unknown as { latin1Write(this: Buffer, s: string, off: number, len: number): number }).latin1Write;
const EMPTY = Buffer.alloc(0);
/** First size of a client's reply buffer, and the size it returns to after a big reply was written. */
const INITIAL = 4096;
const KEEP_MAX = 64 * 1024;

/** Decimal digits of a non-negative integer below 2^31. */
function digitCount(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7
    : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/**
 * Replies encoded straight into one reusable byte buffer per client (latin1: one byte per char), which the
 * connection writes as a slice once per event-loop turn; no string ropes to build and flatten per reply.
 */
export class ReplyBuffer implements Reply {
  private buf: Buffer = EMPTY;
  /** Bytes pending in buf. */
  len = 0;
  resp: 2 | 3 = 2;
  /** Called for every error reply (INFO errorstats counts them). */
  onError: ((msg: string) => void) | null = null;

  /** Pending output as a latin1 string (tests, replication's checks); assigning replaces it ('' clears). */
  get out(): string {
    return this.len === 0 ? '' : latin1Slice.call(this.buf, 0, this.len);
  }
  set out(s: string) {
    this.len = 0;
    if (s.length > 0) this.str(s);
  }

  /** Drops everything written after the first n bytes (CLIENT REPLY OFF/SKIP). */
  truncate(n: number): void {
    if (n < this.len) this.len = n;
  }

  /**
   * The pending bytes, for one socket write; the buffer is emptied. Call released() after the write: the
   * buffer is reused only if the socket kept no reference to it.
   */
  take(): Buffer {
    const b = this.buf.subarray(0, this.len);
    this.len = 0;
    return b;
  }

  /** After writing take()'s bytes: inUse = the socket still holds them (queued), so a new buffer is needed. */
  released(inUse: boolean): void {
    if (inUse || this.buf.length > KEEP_MAX) this.buf = EMPTY;
  }

  private grow(n: number): void {
    const size = Math.max(INITIAL, this.buf.length * 2, this.len + n);
    const nb = Buffer.allocUnsafeSlow(size);
    if (this.len > 0) this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  private str(s: string): void {
    const n = s.length;
    if (this.len + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.len;
    if (n < 48) for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    else p += latin1Write.call(b, s, p, n);
    this.len = p;
  }

  /** Type byte, the integer n, CRLF. */
  private line(type: number, n: number): void {
    if (n < 0 || n > 2147483647 || n !== Math.floor(n)) {
      this.str(String.fromCharCode(type) + n + '\r\n');
      return;
    }
    const d = digitCount(n);
    if (this.len + d + 3 > this.buf.length) this.grow(d + 3);
    const b = this.buf;
    b[this.len] = type;
    let p = this.len + 1 + d;
    this.len = p + 2;
    b[p] = 13;
    b[p + 1] = 10;
    while (n >= 10) {
      const q = (n / 10) | 0;
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  private crlf(): void {
    if (this.len + 2 > this.buf.length) this.grow(2);
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  private bulkBody(s: string): void {
    this.line(36 /* $ */, s.length);
    this.str(s);
    this.crlf();
  }

  ok(): void {
    this.str('+OK\r\n');
  }
  simple(s: string): void {
    this.str('+' + s + '\r\n');
  }
  error(msg: string): void {
    // Redis turns newlines in error text into spaces so the reply stays one line.
    if (msg.indexOf('\n') >= 0 || msg.indexOf('\r') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.str('-' + msg + '\r\n');
    if (this.onError !== null) this.onError(msg);
  }
  integer(n: number | bigint): void {
    if (typeof n === 'number') this.line(58 /* : */, n);
    else this.str(':' + n + '\r\n');
  }
  bulk(s: string | null): void {
    if (s === null) this.str(this.resp === 3 ? '_\r\n' : '$-1\r\n');
    else this.bulkBody(s);
  }
  nullArray(): void {
    this.str(this.resp === 3 ? '_\r\n' : '*-1\r\n');
  }
  arrayHeader(n: number): void {
    this.line(42 /* * */, n);
  }
  bulkArray(items: readonly (string | null)[]): void {
    this.line(42, items.length);
    const nil = this.resp === 3 ? '_\r\n' : '$-1\r\n';
    for (let i = 0; i < items.length; i++) {
      const s = items[i];
      if (s === null) this.str(nil);
      else this.bulkBody(s);
    }
  }
  mapHeader(n: number): void {
    if (this.resp === 3) this.line(37 /* % */, n);
    else this.line(42, n * 2);
  }
  setHeader(n: number): void {
    this.line(this.resp === 3 ? 126 /* ~ */ : 42, n);
  }
  double(d: number): void {
    const s = formatDouble17g(d);
    if (this.resp === 3) this.str(',' + s + '\r\n');
    else this.bulkBody(s);
  }
  bool(b: boolean): void {
    if (this.resp === 3) this.str(b ? '#t\r\n' : '#f\r\n');
    else this.str(b ? ':1\r\n' : ':0\r\n');
  }
  verbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) {
      this.line(61 /* = */, s.length + 4);
      this.str(format + ':');
      this.str(s);
      this.crlf();
    } else this.bulkBody(s);
  }
  pushHeader(n: number): void {
    this.line(this.resp === 3 ? 62 /* > */ : 42, n);
  }
  raw(s: string): void {
    this.str(s);
  }
}

/** Encodes a command as a RESP multibulk (replication stream, MONITOR-free clients, tests). */
export function encodeCommand(argv: readonly string[]): string {
  let o = '*' + argv.length + '\r\n';
  for (const a of argv) o += '$' + a.length + '\r\n' + a + '\r\n';
  return o;
}
