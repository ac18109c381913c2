/** Reply writer: appends RESP2/RESP3 to one string per client, flushed by the connection once per socket read. */
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

export class ReplyBuffer implements Reply {
  /** Pending output; the connection writes and clears it. */
  out = '';
  resp: 2 | 3 = 2;
  /** Called for every error reply (INFO errorstats counts them). */
  onError: ((msg: string) => void) | null = null;

  ok(): void {
    this.out += '+OK\r\n';
  }
  simple(s: string): void {
    this.out += '+' + s + '\r\n';
  }
  error(msg: string): void {
    // Redis turns newlines in error text into spaces so the reply stays one line.
    if (msg.indexOf('\n') >= 0 || msg.indexOf('\r') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.out += '-' + msg + '\r\n';
    if (this.onError !== null) this.onError(msg);
  }
  integer(n: number | bigint): void {
    this.out += ':' + n + '\r\n';
  }
  bulk(s: string | null): void {
    if (s === null) this.out += this.resp === 3 ? '_\r\n' : '$-1\r\n';
    else this.out += '$' + s.length + '\r\n' + s + '\r\n';
  }
  nullArray(): void {
    this.out += this.resp === 3 ? '_\r\n' : '*-1\r\n';
  }
  arrayHeader(n: number): void {
    this.out += '*' + n + '\r\n';
  }
  bulkArray(items: readonly (string | null)[]): void {
    let o = '*' + items.length + '\r\n';
    const nil = this.resp === 3 ? '_\r\n' : '$-1\r\n';
    for (let i = 0; i < items.length; i++) {
      const s = items[i];
      o += s === null ? nil : '$' + s.length + '\r\n' + s + '\r\n';
    }
    this.out += o;
  }
  mapHeader(n: number): void {
    this.out += this.resp === 3 ? '%' + n + '\r\n' : '*' + n * 2 + '\r\n';
  }
  setHeader(n: number): void {
    this.out += (this.resp === 3 ? '~' : '*') + n + '\r\n';
  }
  double(d: number): void {
    const s = formatDouble17g(d);
    if (this.resp === 3) this.out += ',' + s + '\r\n';
    else this.out += '$' + s.length + '\r\n' + s + '\r\n';
  }
  bool(b: boolean): void {
    if (this.resp === 3) this.out += b ? '#t\r\n' : '#f\r\n';
    else this.out += b ? ':1\r\n' : ':0\r\n';
  }
  verbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) this.out += '=' + (s.length + 4) + '\r\n' + format + ':' + s + '\r\n';
    else this.out += '$' + s.length + '\r\n' + s + '\r\n';
  }
  pushHeader(n: number): void {
    this.out += (this.resp === 3 ? '>' : '*') + n + '\r\n';
  }
  raw(s: string): void {
    this.out += s;
  }
}

/** Encodes a command as a RESP multibulk (replication stream, MONITOR-free clients, tests). */
export function encodeCommand(argv: readonly string[]): string {
  let o = '*' + argv.length + '\r\n';
  for (const a of argv) o += '$' + a.length + '\r\n' + a + '\r\n';
  return o;
}
