/** Deep copy of a value (COPY), keeping the source's encoding class. */
import type { Value } from './types.js';
import { createList } from './list.js';
import { createZSet } from './zset.js';
import { hashEncoding, markHashtable, setEncoding } from './encoding.js';

export function cloneValue(v: Value): Value {
  if (typeof v === 'string') return v;
  if (v instanceof Map) {
    const h = new Map(v);
    if (hashEncoding(v) === 'hashtable') markHashtable(h);
    return h;
  }
  if (v instanceof Set) {
    const s = new Set(v);
    if (setEncoding(v) === 'hashtable') markHashtable(s);
    return s;
  }
  if (v.kind === 'list') return createList(v);
  const z = createZSet();
  for (const [m, score] of v.entries()) z.add(m, score);
  return z;
}
