/**
 * MEMORY (USAGE STATS DOCTOR MALLOC-STATS PURGE). The server's memory is V8's, so USAGE estimates what Redis 7.0
 * would allocate for the key (jemalloc size classes, the same encodings OBJECT ENCODING reports, sampling nested
 * values as objectComputeSize does), and STATS reports Redis's fields from the process's own figures.
 */
import type { CommandContext, CommandSpec, Value } from './command.js';
import { container, def, NOKEYS, parseIntArg } from './define.js';
import { encodingOf, type EncodingLimits } from '../store/encoding.js';

/** jemalloc's small size classes: 8, 16, then four classes per doubling. */
function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 16) return 16;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const pow = 2 ** Math.floor(Math.log2(n - 1));
  const step = pow / 4;
  return Math.ceil(n / step) * step;
}

/** An sds string's allocation: header (1, 2, 4 or 8 bytes + type byte) + bytes + NUL. */
function sdsSize(len: number): number {
  const hdr = len < 256 ? 3 : len < 65536 ? 5 : len < 2 ** 32 ? 9 : 17;
  return jemallocSize(hdr + len + 1);
}

const ROBJ = 16;
const DICT_ENTRY = 24;

/** Bytes one element takes inside a listpack (encoding byte(s) + data + backlen). */
function listpackEntry(s: string): number {
  if (/^-?(0|[1-9][0-9]{0,17})$/.test(s)) return 1 + (s.length > 4 ? 8 : 2) + 1;
  const data = s.length < 64 ? 1 + s.length : s.length < 4096 ? 2 + s.length : 5 + s.length;
  return data + (data < 128 ? 1 : data < 16384 ? 2 : 3);
}

/** Average of fn over up to `samples` items, times the count (objectComputeSize's sampling). */
function sampled<T>(items: Iterable<T>, count: number, samples: number, fn: (x: T) => number): number {
  let sum = 0;
  let n = 0;
  for (const x of items) {
    if (n >= samples) break;
    sum += fn(x);
    n++;
  }
  return n === 0 ? 0 : (sum / n) * count;
}

function hashtable(count: number): number {
  let buckets = 4;
  while (buckets < count) buckets *= 2;
  return 48 + buckets * 8 + count * DICT_ENTRY;
}

/** Redis 7.0's objectComputeSize, estimated from the value and the encoding it would have. */
export function valueSize(v: Value, samples: number, lim: Readonly<EncodingLimits>): number {
  const enc = encodingOf(v, lim);
  if (typeof v === 'string') {
    if (enc === 'int') return ROBJ;
    if (enc === 'embstr') return jemallocSize(ROBJ + 3 + v.length + 1);
    return ROBJ + sdsSize(v.length);
  }
  if (v instanceof Map) {
    if (enc === 'listpack') {
      let bytes = 7;
      for (const [f, x] of v) bytes += listpackEntry(f) + listpackEntry(x);
      return ROBJ + jemallocSize(bytes);
    }
    return ROBJ + hashtable(v.size) + sampled(v, v.size, samples, ([f, x]) => sdsSize(f.length) + sdsSize(x.length));
  }
  if (v instanceof Set) {
    if (enc === 'intset') {
      let width = 2;
      for (const m of v) width = Math.max(width, Math.abs(Number(m)) > 2147483647 ? 8 : Math.abs(Number(m)) > 32767 ? 4 : 2);
      return ROBJ + jemallocSize(8 + width * v.size);
    }
    return ROBJ + hashtable(v.size) + sampled(v, v.size, samples, (m) => sdsSize(m.length));
  }
  if (v.kind === 'list') {
    // quicklist: a 40-byte header, one 32-byte node per 8 KB listpack.
    let bytes = 0;
    let n = 0;
    for (const e of v) {
      if (n >= samples * 128) break;
      bytes += listpackEntry(e);
      n++;
    }
    const total = n === 0 ? 0 : (bytes / n) * v.length;
    const nodes = Math.max(1, Math.ceil(total / 8192));
    return ROBJ + 40 + nodes * (32 + 7) + jemallocSize(Math.ceil(total));
  }
  if (enc === 'listpack') {
    let bytes = 7;
    for (const [m, s] of v.entries()) bytes += listpackEntry(m) + listpackEntry(String(s));
    return ROBJ + jemallocSize(bytes);
  }
  // skiplist + dict: a node per member (score, sds, backward pointer, ~1.33 levels).
  return ROBJ + 32 + hashtable(v.size) + sampled(v.entries(), v.size, samples, ([m]) => sdsSize(m.length) + jemallocSize(8 + 8 + 8 + 16 * 1.33));
}

function usage(ctx: CommandContext, argv: string[]): void {
  let samples = 5;
  for (let j = 3; j < argv.length; j++) {
    if (argv[j].toLowerCase() === 'samples' && j + 1 < argv.length) {
      const n = parseIntArg(argv[j + 1]);
      if (n === null) {
        ctx.reply.error('ERR value is not an integer or out of range');
        return;
      }
      if (n < 0) {
        ctx.reply.error('ERR syntax error');
        return;
      }
      samples = n === 0 ? Number.MAX_SAFE_INTEGER : n;
      j++;
    } else {
      ctx.reply.error('ERR syntax error');
      return;
    }
  }
  const v = ctx.db.get(argv[2]);
  if (v === undefined) {
    ctx.reply.bulk(null);
    return;
  }
  ctx.reply.integer(Math.round(valueSize(v, samples, ctx.server.encodingLimits) + sdsSize(argv[2].length) + DICT_ENTRY));
}

function stats(ctx: CommandContext): void {
  const mem = process.memoryUsage();
  const used = mem.heapUsed + mem.external + mem.arrayBuffers;
  const dbs = ctx.server.dbs.filter((d) => d.size() > 0);
  let overhead = 0;
  let keys = 0;
  const perDb: [string, number, number][] = [];
  for (const d of dbs) {
    const main = hashtable(d.size());
    const expires = d.expiresCount() > 0 ? hashtable(d.expiresCount()) : 0;
    perDb.push([`db.${d.index}`, main, expires]);
    overhead += main + expires;
    keys += d.size();
  }
  const dataset = Math.max(0, used - overhead);
  const r = ctx.reply;
  r.mapHeader(27 + perDb.length);
  const num = (name: string, n: number): void => {
    r.bulk(name);
    r.integer(Math.round(n));
  };
  const dbl = (name: string, n: number): void => {
    r.bulk(name);
    r.double(n);
  };
  num('peak.allocated', Math.max(used, mem.heapTotal));
  num('total.allocated', used);
  num('startup.allocated', 0);
  num('replication.backlog', 0);
  num('clients.slaves', 0);
  num('clients.normal', 0);
  num('cluster.links', 0);
  num('aof.buffer', 0);
  num('lua.caches', 0);
  num('functions.caches', 0);
  for (const [name, main, expires] of perDb) {
    r.bulk(name);
    r.mapHeader(3);
    num('overhead.hashtable.main', main);
    num('overhead.hashtable.expires', expires);
    num('overhead.hashtable.slot-to-keys', 0);
  }
  num('overhead.total', overhead);
  num('keys.count', keys);
  num('keys.bytes-per-key', keys === 0 ? 0 : used / keys);
  num('dataset.bytes', dataset);
  dbl('dataset.percentage', used === 0 ? 0 : (dataset * 100) / used);
  dbl('peak.percentage', (used * 100) / Math.max(used, mem.heapTotal));
  num('allocator.allocated', used);
  num('allocator.active', mem.heapTotal);
  num('allocator.resident', mem.rss);
  dbl('allocator-fragmentation.ratio', mem.heapTotal / Math.max(1, used));
  num('allocator-fragmentation.bytes', mem.heapTotal - used);
  dbl('allocator.rss-ratio', mem.rss / Math.max(1, mem.heapTotal));
  num('allocator.rss-bytes', mem.rss - mem.heapTotal);
  dbl('rss-overhead.ratio', 1);
  num('rss-overhead.bytes', 0);
  dbl('fragmentation', mem.rss / Math.max(1, used));
  num('fragmentation.bytes', mem.rss - used);
}

const DOCTOR_EMPTY =
  'Hi Sam, this instance is empty or is using very little memory, my issues detector can\'t be used in these conditions. ' +
  'Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n';
const DOCTOR_FINE = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";

const HELP_LINES = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

const subs: CommandSpec[] = [
  def('memory|usage', -3, 'readonly', [2, 2, 1], 'read slow', usage),
  def('memory|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => {
    ctx.reply.arrayHeader(HELP_LINES.length);
    for (const l of HELP_LINES) ctx.reply.simple(l);
  }),
  def('memory|stats', 2, '', NOKEYS, 'slow', stats),
  def('memory|doctor', 2, '', NOKEYS, 'slow', (ctx) => {
    // Redis's detector needs at least 5 MB in use.
    const used = process.memoryUsage().heapUsed;
    ctx.reply.verbatim(used < 5 * 1024 * 1024 || ctx.server.dbs.every((d) => d.size() === 0) ? DOCTOR_EMPTY : DOCTOR_FINE, 'txt');
  }),
  def('memory|malloc-stats', 2, '', NOKEYS, 'slow', (ctx) => ctx.reply.verbatim('Stats not supported for the current allocator', 'txt')),
  def('memory|purge', 2, '', NOKEYS, 'slow', (ctx) => ctx.reply.ok()),
];

export const commands: CommandSpec[] = [container('memory', 'slow', subs)];
