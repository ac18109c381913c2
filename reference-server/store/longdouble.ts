/**
 * x87 80-bit long double arithmetic (64-bit mantissa), exactly as Redis's INCRBYFLOAT/HINCRBYFLOAT see it on
 * x86-64: strtold rounding, one addition, and printf("%.17Lf"). Doubles would print 10.6 where Redis prints
 * 5005.60000000000000009 after a few increments, so the bits matter.
 */
import { parseHexFloat } from './numbers.js';

/** A finite value m * 2^e with m = 0 or 2^63 <= m < 2^64, or an infinity. */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
  inf?: boolean;
}

const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;
const TWO65 = 1n << 65n;
/** Smallest normal exponent of the 80-bit format: values below 2^-16382 are out of range for strtold. */
const MIN_EXP = -16382 - 63;
const MAX_EXP = 16383 - 63;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds num/den * 2^scale (num, den > 0) to nearest-even 64-bit mantissa. Null when out of range. */
function roundRational(neg: boolean, num: bigint, den: bigint, scale: number): LongDouble | null {
  let s = 65 - (bitLength(num) - bitLength(den));
  let q: bigint;
  let r: bigint;
  for (;;) {
    const n = s >= 0 ? num << BigInt(s) : num;
    const d = s >= 0 ? den : den << BigInt(-s);
    q = n / d;
    r = n % d;
    if (q >= TWO65) s--;
    else if (q < TWO64) s++;
    else break;
  }
  let m = q >> 1n;
  const half = (q & 1n) === 1n;
  if (half && (r !== 0n || (m & 1n) === 1n)) m++;
  let e = scale - s + 1;
  if (m === TWO64) {
    m = TWO63;
    e++;
  }
  if (e > MAX_EXP || e < MIN_EXP) return null;
  return { neg, m, e };
}

const DEC = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** strtold over the whole string with Redis's string2ld checks; null when Redis says "not a valid float". */
export function parseLD(s: string): LongDouble | null {
  if (s.length === 0 || s.length > 5 * 1024) return null;
  const m = DEC.exec(s);
  if (m === null || (m[2].length === 0 && (m[3] ?? '').length === 0)) {
    const special = /^([+-]?)(inf|infinity)$/i.exec(s);
    if (special) return { neg: special[1] === '-', m: 0n, e: 0, inf: true };
    const hex = /^[+-]?0[xX][0-9a-fA-F.]+(?:[pP][+-]?\d+)?$/.test(s) ? Number(hexToNumber(s)) : NaN;
    if (Number.isNaN(hex)) return null;
    return fromNumber(hex);
  }
  const neg = m[1] === '-';
  const frac = m[3] ?? '';
  const digits = (m[2] + frac).replace(/^0+/, '');
  if (digits.length === 0) return { neg, m: 0n, e: 0 };
  const exp10 = (m[4] !== undefined ? parseInt(m[4], 10) : 0) - frac.length;
  if (exp10 + digits.length > 4940) return null;
  if (exp10 + digits.length < -4960) return null;
  const d = BigInt(digits);
  if (exp10 >= 0) return roundRational(neg, d * 10n ** BigInt(exp10), 1n, 0);
  return roundRational(neg, d, 10n ** BigInt(-exp10), 0);
}

function hexToNumber(s: string): number {
  return parseHexFloat(s) ?? NaN;
}

/** Exact conversion of a double. */
export function fromNumber(x: number): LongDouble | null {
  if (Number.isNaN(x)) return null;
  if (!Number.isFinite(x)) return { neg: x < 0, m: 0n, e: 0, inf: true };
  if (x === 0) return { neg: Object.is(x, -0), m: 0n, e: 0 };
  const neg = x < 0;
  let a = Math.abs(x);
  let e = 0;
  while (!Number.isInteger(a)) {
    a *= 2;
    e--;
  }
  return roundRational(neg, BigInt(a), 1n, e);
}

export function isZero(v: LongDouble): boolean {
  return !v.inf && v.m === 0n;
}

/** a + b rounded to nearest-even; an infinity when the sum leaves the finite range. */
export function addLD(a: LongDouble, b: LongDouble): LongDouble {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return { neg: false, m: 0n, e: 0, inf: true };
    return a.inf ? a : b;
  }
  if (a.m === 0n) return b.m === 0n ? { neg: a.neg && b.neg, m: 0n, e: 0 } : b;
  if (b.m === 0n) return a;
  const emin = Math.min(a.e, b.e);
  const sa = (a.neg ? -a.m : a.m) << BigInt(a.e - emin);
  const sb = (b.neg ? -b.m : b.m) << BigInt(b.e - emin);
  const sum = sa + sb;
  if (sum === 0n) return { neg: false, m: 0n, e: 0 };
  const r = roundRational(sum < 0n, sum < 0n ? -sum : sum, 1n, emin);
  return r ?? { neg: sum < 0n, m: 0n, e: 0, inf: true };
}

/** Redis ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and dot removed, "-0" printed as "0". */
export function formatLD(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  let out: string;
  if (v.e >= 0) {
    out = (v.m << BigInt(v.e)).toString();
  } else {
    const den = 1n << BigInt(-v.e);
    const scaled = v.m * 10n ** 17n;
    let q = scaled / den;
    const r = scaled % den;
    if (r * 2n > den || (r * 2n === den && (q & 1n) === 1n)) q++;
    const ip = q / 10n ** 17n;
    const fp = (q % 10n ** 17n).toString().padStart(17, '0').replace(/0+$/, '');
    out = ip.toString() + (fp.length > 0 ? '.' + fp : '');
  }
  if (v.neg && out !== '0') out = '-' + out;
  return out;
}
