/** Number parsing and formatting with Redis's exact acceptance rules (string2ll, strtold, ld2string). */

export const LLONG_MAX = 9223372036854775807n;
export const LLONG_MIN = -9223372036854775808n;
export const INT_MAX = 2147483647;
export const INT_MIN = -2147483648;

export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Safe integer digits: up to 15 digits always fit a double exactly. */
const FAST_DIGITS = 15;

/** Redis string2ll: canonical decimal, no '+', no leading zeros, no spaces, within int64. */
export function parseLL(s: string): bigint | number | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  if (len === 1 && s === '0') return 0;
  let i = 0;
  const neg = s.charCodeAt(0) === 45;
  if (neg) {
    i = 1;
    if (len === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return null;
  // The value is accumulated while validating (exact below 16 digits), saving a string-to-number conversion.
  let acc = first - 48;
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
    acc = acc * 10 + (c - 48);
  }
  if (len - i <= FAST_DIGITS) return neg ? -acc : acc;
  const v = BigInt(s);
  if (v > LLONG_MAX || v < LLONG_MIN) return null;
  return v;
}

/** parseLL as a number: int64 arguments whose exact value past 2^53 does not matter (indexes, counts, offsets). */
export function parseInt64(s: string): number | null {
  const v = parseLL(s);
  return v === null ? null : Number(v);
}

/** parseLL within Number's exact range (ids, ports, timeouts): null for what is not an integer or not exact. */
export function parseSafeInt(s: string): number | null {
  const v = parseLL(s);
  if (typeof v !== 'bigint') return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** parseLL as a bigint (for arithmetic that may overflow doubles). */
export function parseBig(s: string): bigint | null {
  const v = parseLL(s);
  return v === null ? null : BigInt(v);
}

/** True when s is exactly how Redis would print some long long (so it could be int-encoded). */
export function isCanonicalLL(s: string): boolean {
  return parseLL(s) !== null;
}

/** Adds with int64 overflow detection; returns null on overflow. Keeps numbers when exact. */
export function addLL(a: bigint | number, b: bigint | number): bigint | number | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(a) + BigInt(b);
  if (r > LLONG_MAX || r < LLONG_MIN) return null;
  return r;
}

const DEC_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** A C99 hexadecimal float ("0x1.8p3") as strtod reads it; undefined when s is not one (no hex digit at all). */
export function parseHexFloat(s: string): number | undefined {
  const hx = HEX_FLOAT.exec(s);
  if (hx === null || (hx[2].length === 0 && (hx[3] ?? '').length === 0)) return undefined;
  let v = 0;
  for (const ch of hx[2]) v = v * 16 + parseInt(ch, 16);
  let scale = 1 / 16;
  for (const ch of hx[3] ?? '') {
    v += parseInt(ch, 16) * scale;
    scale /= 16;
  }
  if (hx[4] !== undefined) v *= Math.pow(2, parseInt(hx[4], 10));
  return hx[1] === '-' ? -v : v;
}
/** Redis's MAX_LONG_DOUBLE_CHARS. */
const MAX_LD_CHARS = 5 * 1024;

/** Redis string2ld as a double (strtold rules, whole string, no leading space, no NaN); null when not a valid float. */
export function parseLongDouble(s: string): number | null {
  if (s.length === 0 || s.length > MAX_LD_CHARS) return null;
  if (DEC_FLOAT.test(s)) {
    const v = Number(s);
    return Number.isNaN(v) ? null : v;
  }
  const sp = SPECIAL.exec(s);
  if (sp) {
    if (sp[2].toLowerCase() === 'nan') return null;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  const hex = parseHexFloat(s);
  if (hex !== undefined) return hex;
  return null;
}

/** getRangeLongFromObjectOrReply-style parse: an error line or the value. */
export function parseIntRange(s: string, min: bigint, max: bigint, msg?: string): number | string {
  const v = parseLL(s);
  if (v === null) return msg ?? ERR_NOT_INTEGER;
  if (BigInt(v) < min || BigInt(v) > max) return msg ?? `ERR value is out of range, value must between ${min} and ${max}`;
  return Number(v);
}

/** getIntFromObjectOrReply. */
export function parseInt32(s: string, msg?: string): number | string {
  const v = parseLL(s);
  if (v === null) return msg ?? ERR_NOT_INTEGER;
  if (v < INT_MIN || v > INT_MAX) return msg ?? `ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`;
  return Number(v);
}
