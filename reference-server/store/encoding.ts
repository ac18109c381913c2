/** OBJECT ENCODING as Redis 7.0 reports it, plus the one-way listpack -> hashtable conversion of hashes and sets. */
import type { RHash, RSet, Value } from './types.js';
import { listEncoding } from './list.js';
import { zsetEncoding } from './zset.js';
import { isCanonicalLL } from './numbers.js';
import type { EncodingLimits } from './limits.js';

export { DEFAULT_LIMITS, limitsFromConfig, type EncodingLimits } from './limits.js';

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_LIMIT = 44;

/** Collections that already converted to a hashtable; Redis never converts back while running. */
const bigCollections = new WeakSet<object>();

/** Call after a write to a hash (with the field/value just written, if any). */
export function noteHashWrite(h: RHash, lim: Readonly<EncodingLimits>, field?: string, value?: string): void {
  if (bigCollections.has(h)) return;
  if (
    h.size > lim.hashMaxListpackEntries ||
    (field !== undefined && field.length > lim.hashMaxListpackValue) ||
    (value !== undefined && value.length > lim.hashMaxListpackValue)
  ) {
    bigCollections.add(h);
  }
}

/** Marks a collection as hashtable-encoded (sets given a non-integer member, RESTORE of big values). */
export function markHashtable(v: RHash | RSet): void {
  bigCollections.add(v);
}

export function hashEncoding(h: RHash, lim: Readonly<EncodingLimits>): 'listpack' | 'hashtable' {
  if (bigCollections.has(h)) return 'hashtable';
  if (h.size > lim.hashMaxListpackEntries) return 'hashtable';
  for (const [f, v] of h) {
    if (f.length > lim.hashMaxListpackValue || v.length > lim.hashMaxListpackValue) return 'hashtable';
  }
  return 'listpack';
}

/** Redis 7.0 sets are intset (all integers, at most set-max-intset-entries) or hashtable. */
export function setEncoding(s: RSet, lim: Readonly<EncodingLimits>): 'intset' | 'hashtable' {
  if (bigCollections.has(s) || s.size > lim.setMaxIntsetEntries) return 'hashtable';
  for (const m of s) if (!isCanonicalLL(m)) return 'hashtable';
  return 'intset';
}

export function stringEncoding(s: string): 'int' | 'embstr' | 'raw' {
  if (s.length <= 20 && isCanonicalLL(s)) return 'int';
  return s.length <= EMBSTR_LIMIT ? 'embstr' : 'raw';
}

export function encodingOf(v: Value, lim: Readonly<EncodingLimits>): string {
  if (typeof v === 'string') return stringEncoding(v);
  if (v instanceof Map) return hashEncoding(v, lim);
  if (v instanceof Set) return setEncoding(v, lim);
  if (v.kind === 'list') return listEncoding(v);
  return zsetEncoding(v);
}
