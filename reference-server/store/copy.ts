/** Deep copy of a value (COPY), keeping the source's encoding class. */
import type { Value } from './types.js';
import { createList } from './list.js';
import { createZSet } from './zset.js';
import { hashEncoding, markHashtable, setEncoding, type EncodingLimits } from './encoding.js';

export function cloneValue(v: Value, lim: Readonly<EncodingLimits>): Value {
  if (typeof v === 'string') return v;
  if (v instanceof Map) {
    const h = new Map(v);
    if (hashEncoding(v, lim) === 'hashtable') markHashtable(h);
    return h;
  }
  if (v instanceof Set) {
    const s = new Set(v);
    if (setEncoding(v, lim) === 'hashtable') markHashtable(s);
    return s;
  }
  if (v.kind === 'list') return createList(v);
  const z = createZSet(lim);
  for (const [m, score] of v.entries()) z.add(m, score);
  return z;
}
