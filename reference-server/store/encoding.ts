/** OBJECT ENCODING as Redis 7.0 reports it, plus the one-way listpack -> hashtable conversion of hashes and sets. */
import type { RHash, RSet, Value } from './types.js';
import { listEncoding } from './list.js';
import { zsetEncoding } from './zset.js';
import { isCanonicalLL } from './numbers.js';

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_LIMIT = 44;

export const hashLimits = { maxEntries: 128, maxValue: 64 };
export const setLimits = { maxIntsetEntries: 512 };

/** Collections that already converted to a hashtable; Redis never converts back while running. */
const bigCollections = new WeakSet<object>();

export function setHashLimits(maxEntries: number, maxValue: number): void {
  hashLimits.maxEntries = maxEntries;
  hashLimits.maxValue = maxValue;
}

/** Call after a write to a hash (with the field/value just written, if any). */
export function noteHashWrite(h: RHash, field?: string, value?: string): void {
  if (bigCollections.has(h)) return;
  if (
    h.size > hashLimits.maxEntries ||
    (field !== undefined && field.length > hashLimits.maxValue) ||
    (value !== undefined && value.length > hashLimits.maxValue)
  ) {
    bigCollections.add(h);
  }
}

/** Marks a collection as hashtable-encoded (sets given a non-integer member, RESTORE of big values). */
export function markHashtable(v: RHash | RSet): void {
  bigCollections.add(v);
}

export function hashEncoding(h: RHash): 'listpack' | 'hashtable' {
  if (bigCollections.has(h)) return 'hashtable';
  if (h.size > hashLimits.maxEntries) return 'hashtable';
  for (const [f, v] of h) {
    if (f.length > hashLimits.maxValue || v.length > hashLimits.maxValue) return 'hashtable';
  }
  return 'listpack';
}

/** Redis 7.0 sets are intset (all integers, at most set-max-intset-entries) or hashtable. */
export function setEncoding(s: RSet): 'intset' | 'hashtable' {
  if (bigCollections.has(s) || s.size > setLimits.maxIntsetEntries) return 'hashtable';
  for (const m of s) if (!isCanonicalLL(m)) return 'hashtable';
  return 'intset';
}

export function stringEncoding(s: string): 'int' | 'embstr' | 'raw' {
  if (s.length <= 20 && isCanonicalLL(s)) return 'int';
  return s.length <= EMBSTR_LIMIT ? 'embstr' : 'raw';
}

export function encodingOf(v: Value): string {
  if (typeof v === 'string') return stringEncoding(v);
  if (v instanceof Map) return hashEncoding(v);
  if (v instanceof Set) return setEncoding(v);
  if (v.kind === 'list') return listEncoding(v);
  return zsetEncoding(v);
}
