/** Keyspace commands (db.c, expire.c, object.c of Redis 7.0): arity, flags, replies, errors and propagation. */
import type { CommandContext, CommandSpec, Db, Value } from './command.js';
import { lookupNoTouch, lookupRead, parseCursor, lc, notify } from './access.js';
import { def, NOKEYS } from './define.js';
import { NOTIFY_GENERIC } from '../config/keyspace-events.js';
import { LLONG_MAX, LLONG_MIN, ERR_NOT_INTEGER, ERR_SYNTAX, parseBig, parseInt32, parseLL } from '../store/numbers.js';
import { encodingOf } from '../store/encoding.js';
import { cloneValue } from '../store/copy.js';
import { KeyspaceDb } from '../store/db.js';
import { typeOf } from '../store/types.js';
import { globMatch } from '../server/glob.js';
import { createDumpPayload, parseDumpPayload } from '../persistence/dump.js';
import { hashEncoding, type EncodingLimits } from '../store/encoding.js';

const ERR_SAMEOBJ = 'ERR source and destination objects are the same';
const ERR_DB_RANGE = 'ERR DB index is out of range';
/** Redis's OBJ_SHARED_REFCOUNT, reported for the shared integers 0..9999. */
const SHARED_REFCOUNT = 2147483647;
const SHARED_INTEGERS = 10000;
const LFU_INIT_VAL = 5;

function clusterEnabled(ctx: CommandContext): boolean {
  return ctx.server.config.getBool('cluster-enabled');
}

function dbAt(ctx: CommandContext, index: number): Db | undefined {
  return index >= 0 && index < ctx.server.dbs.length ? ctx.server.dbs[index] : undefined;
}

function cmdDel(ctx: CommandContext, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    if (ctx.db.delete(argv[i])) {
      n++;
      notify(ctx, NOTIFY_GENERIC, 'del', argv[i]);
    }
  }
  // Keys that merely expired on the way are propagated as their own DELs.
  if (n === 0) ctx.noPropagate();
  ctx.reply.integer(n);
}

function cmdExists(ctx: CommandContext, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupNoTouch(ctx, argv[i]) !== undefined) n++;
  ctx.reply.integer(n);
}

function cmdType(ctx: CommandContext, argv: string[]): void {
  const v = lookupNoTouch(ctx, argv[1]);
  ctx.reply.simple(v === undefined ? 'none' : typeOf(v));
}

const EXP_NX = 1;
const EXP_XX = 2;
const EXP_GT = 4;
const EXP_LT = 8;

/** expireGenericCommand: basetime 0 for *AT forms, seconds or ms unit. */
function expireGeneric(ctx: CommandContext, argv: string[], cmd: string, relative: boolean, seconds: boolean): void {
  const key = argv[1];
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = lc(argv[j]);
    if (opt === 'nx') flags |= EXP_NX;
    else if (opt === 'xx') flags |= EXP_XX;
    else if (opt === 'gt') flags |= EXP_GT;
    else if (opt === 'lt') flags |= EXP_LT;
    else {
      ctx.reply.error(`ERR Unsupported option ${argv[j]}`);
      return;
    }
  }
  if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
    ctx.reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return;
  }
  if ((flags & EXP_GT) && (flags & EXP_LT)) {
    ctx.reply.error('ERR GT and LT options at the same time are not compatible');
    return;
  }
  let when = parseBig(argv[2]);
  if (when === null) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  const bad = `ERR invalid expire time in '${cmd}' command`;
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) {
      ctx.reply.error(bad);
      return;
    }
    when *= 1000n;
  }
  const now = Date.now();
  const base = relative ? BigInt(now) : 0n;
  if (when > LLONG_MAX - base) {
    ctx.reply.error(bad);
    return;
  }
  when += base;
  if (ctx.db.get(key) === undefined) {
    ctx.reply.integer(0);
    ctx.noPropagate();
    return;
  }
  if (flags) {
    const cur = ctx.db.getExpire(key);
    const curBig = cur === undefined ? -1n : BigInt(cur);
    if (
      ((flags & EXP_NX) && cur !== undefined) ||
      ((flags & EXP_XX) && cur === undefined) ||
      ((flags & EXP_GT) && (cur === undefined || when <= curBig)) ||
      ((flags & EXP_LT) && cur !== undefined && when >= curBig)
    ) {
      ctx.reply.integer(0);
      ctx.noPropagate();
      return;
    }
  }
  if (when <= BigInt(now) && ctx.server.replication.role() === 'master') {
    ctx.db.delete(key);
    ctx.propagateAs([[ctx.server.config.getBool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]]);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
    ctx.reply.integer(1);
    return;
  }
  const at = Number(when);
  ctx.db.setExpire(key, at);
  notify(ctx, NOTIFY_GENERIC, 'expire', key);
  ctx.reply.integer(1);
  ctx.propagateAs([['PEXPIREAT', key, String(when), ...argv.slice(3)]]);
}

function ttlGeneric(ctx: CommandContext, argv: string[], ms: boolean, abs: boolean): void {
  const key = argv[1];
  if (lookupNoTouch(ctx, key) === undefined) {
    ctx.reply.integer(-2);
    return;
  }
  const at = ctx.db.getExpire(key);
  if (at === undefined) {
    ctx.reply.integer(-1);
    return;
  }
  let ttl = abs ? at : at - Date.now();
  if (ttl < 0) ttl = 0;
  ctx.reply.integer(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function cmdPersist(ctx: CommandContext, argv: string[]): void {
  const ok = ctx.db.get(argv[1]) !== undefined && ctx.db.persist(argv[1]);
  if (!ok) ctx.noPropagate();
  else notify(ctx, NOTIFY_GENERIC, 'persist', argv[1]);
  ctx.reply.integer(ok ? 1 : 0);
}

function cmdKeys(ctx: CommandContext, argv: string[]): void {
  const pattern = argv[1];
  const all = pattern === '*';
  const out: string[] = [];
  for (const k of ctx.db.keys()) if (all || globMatch(pattern, k)) out.push(k);
  ctx.reply.bulkArray(out);
}

function cmdScan(ctx: CommandContext, argv: string[]): void {
  const cursor = parseCursor(argv[1]);
  if (typeof cursor === 'string') {
    ctx.reply.error(cursor);
    return;
  }
  let count = 10;
  let pattern: string | undefined;
  let type: string | undefined;
  for (let i = 2; i < argv.length; ) {
    const opt = lc(argv[i]);
    const left = argv.length - i;
    if (opt === 'count' && left >= 2) {
      const c = parseLL(argv[i + 1]);
      if (c === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (c < 1) {
        ctx.reply.error(ERR_SYNTAX);
        return;
      }
      count = Number(c);
      i += 2;
    } else if (opt === 'match' && left >= 2) {
      pattern = argv[i + 1] === '*' ? undefined : argv[i + 1];
      i += 2;
    } else if (opt === 'type' && left >= 2) {
      type = lc(argv[i + 1]);
      i += 2;
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const found: string[] = [];
  const db = ctx.db;
  const next = db.scan(cursor, count, (k) => {
    if (pattern !== undefined && !globMatch(pattern, k)) return;
    if (type !== undefined) {
      const v = db.get(k);
      if (v === undefined || typeOf(v) !== type) return;
    }
    found.push(k);
  });
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk(String(next));
  ctx.reply.bulkArray(found);
}

function renameGeneric(ctx: CommandContext, argv: string[], nx: boolean): void {
  const [, src, dst] = argv;
  const v = ctx.db.get(src);
  if (v === undefined) {
    ctx.noPropagate();
    ctx.reply.error('ERR no such key');
    return;
  }
  if (src === dst) {
    ctx.noPropagate();
    if (nx) ctx.reply.integer(0);
    else ctx.reply.ok();
    return;
  }
  const expire = ctx.db.getExpire(src);
  if (ctx.db.get(dst) !== undefined) {
    if (nx) {
      ctx.noPropagate();
      ctx.reply.integer(0);
      return;
    }
    ctx.db.delete(dst);
  }
  const enc = ctx.db instanceof KeyspaceDb ? ctx.db.stringEncoding(src) : undefined;
  ctx.db.delete(src);
  ctx.db.add(dst, v);
  if (expire !== undefined) ctx.db.setExpire(dst, expire);
  if (enc !== undefined && ctx.db instanceof KeyspaceDb) ctx.db.setStringEncoding(dst, enc);
  notify(ctx, NOTIFY_GENERIC, 'rename_from', src);
  notify(ctx, NOTIFY_GENERIC, 'rename_to', dst);
  if (nx) ctx.reply.integer(1);
  else ctx.reply.ok();
}

function cmdRandomkey(ctx: CommandContext): void {
  const k = ctx.db.randomKey();
  ctx.reply.bulk(k ?? null);
}

function flushMode(ctx: CommandContext, argv: string[]): boolean {
  if (argv.length > 2 || (argv.length === 2 && lc(argv[1]) !== 'sync' && lc(argv[1]) !== 'async')) {
    ctx.reply.error(ERR_SYNTAX);
    return false;
  }
  return true;
}

function cmdFlushdb(ctx: CommandContext, argv: string[]): void {
  if (!flushMode(ctx, argv)) return;
  ctx.db.flush();
  ctx.propagateAs([argv]);
  ctx.reply.ok();
}

function cmdFlushall(ctx: CommandContext, argv: string[]): void {
  if (!flushMode(ctx, argv)) return;
  for (const db of ctx.server.dbs) db.flush();
  if ((ctx.server.config.get('save') ?? '') !== '') {
    try {
      ctx.server.persistence.save();
    } catch (e) {
      ctx.server.log('warning', `FLUSHALL could not save the RDB file: ${(e as Error).message}`);
    }
  }
  ctx.propagateAs([argv]);
  ctx.reply.ok();
}

function cmdSelect(ctx: CommandContext, argv: string[]): void {
  const id = parseInt32(argv[1]);
  if (typeof id === 'string') {
    ctx.reply.error(id);
    return;
  }
  if (clusterEnabled(ctx) && id !== 0) {
    ctx.reply.error('ERR SELECT is not allowed in cluster mode');
    return;
  }
  if (dbAt(ctx, id) === undefined) {
    ctx.reply.error(ERR_DB_RANGE);
    return;
  }
  ctx.client.dbIndex = id;
  ctx.reply.ok();
}

function cmdSwapdb(ctx: CommandContext, argv: string[]): void {
  if (clusterEnabled(ctx)) {
    ctx.reply.error('ERR SWAPDB is not allowed in cluster mode');
    return;
  }
  const a = parseInt32(argv[1], 'ERR invalid first DB index');
  if (typeof a === 'string') {
    ctx.reply.error(a);
    return;
  }
  const b = parseInt32(argv[2], 'ERR invalid second DB index');
  if (typeof b === 'string') {
    ctx.reply.error(b);
    return;
  }
  const da = dbAt(ctx, a);
  const db = dbAt(ctx, b);
  if (da === undefined || db === undefined) {
    ctx.reply.error(ERR_DB_RANGE);
    return;
  }
  if (da !== db) {
    if (!(da instanceof KeyspaceDb) || !(db instanceof KeyspaceDb)) {
      ctx.reply.error('ERR SWAPDB is not supported by this keyspace');
      return;
    }
    da.swapWith(db);
    ctx.server.signalBlockedKeysIn?.(da);
    ctx.server.signalBlockedKeysIn?.(db);
  }
  ctx.propagateAs([argv]);
  ctx.reply.ok();
}

function cmdMove(ctx: CommandContext, argv: string[]): void {
  if (clusterEnabled(ctx)) {
    ctx.reply.error('ERR MOVE is not allowed in cluster mode');
    return;
  }
  const id = parseInt32(argv[2]);
  if (typeof id === 'string') {
    ctx.reply.error(id);
    return;
  }
  const dst = dbAt(ctx, id);
  if (dst === undefined) {
    ctx.reply.error(ERR_DB_RANGE);
    return;
  }
  const src = ctx.db;
  if (src === dst) {
    ctx.reply.error(ERR_SAMEOBJ);
    return;
  }
  const key = argv[1];
  const v = src.get(key);
  if (v === undefined || dst.get(key) !== undefined) {
    ctx.noPropagate();
    ctx.reply.integer(0);
    return;
  }
  const expire = src.getExpire(key);
  const enc = src instanceof KeyspaceDb ? src.stringEncoding(key) : undefined;
  dst.add(key, v);
  if (expire !== undefined) dst.setExpire(key, expire);
  if (enc !== undefined && dst instanceof KeyspaceDb) dst.setStringEncoding(key, enc);
  src.delete(key);
  notify(ctx, NOTIFY_GENERIC, 'move_from', key, src.index);
  notify(ctx, NOTIFY_GENERIC, 'move_to', key, dst.index);
  ctx.reply.integer(1);
}

function cmdCopy(ctx: CommandContext, argv: string[]): void {
  const src = ctx.db;
  let dst = ctx.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = lc(argv[j]);
    if (opt === 'replace') replace = true;
    else if (opt === 'db' && argv.length - j - 1 >= 1) {
      const id = parseInt32(argv[j + 1]);
      if (typeof id === 'string') {
        ctx.reply.error(id);
        return;
      }
      const d = dbAt(ctx, id);
      if (d === undefined) {
        ctx.reply.error(ERR_DB_RANGE);
        return;
      }
      dst = d;
      j++;
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (clusterEnabled(ctx) && (src.index !== 0 || dst.index !== 0)) {
    ctx.reply.error('ERR Copying to another database is not allowed in cluster mode');
    return;
  }
  const [, key, newkey] = argv;
  if (src === dst && key === newkey) {
    ctx.reply.error(ERR_SAMEOBJ);
    return;
  }
  const v = lookupRead(ctx, key, src);
  if (v === undefined) {
    ctx.noPropagate();
    ctx.reply.integer(0);
    return;
  }
  const expire = src.getExpire(key);
  if (dst.get(newkey) !== undefined) {
    if (!replace) {
      ctx.noPropagate();
      ctx.reply.integer(0);
      return;
    }
    dst.delete(newkey);
  }
  dst.add(newkey, cloneValue(v, ctx.server.encodingLimits));
  if (expire !== undefined) dst.setExpire(newkey, expire);
  const enc = src instanceof KeyspaceDb ? src.stringEncoding(key) : undefined;
  if (enc !== undefined && dst instanceof KeyspaceDb) dst.setStringEncoding(newkey, enc);
  notify(ctx, NOTIFY_GENERIC, 'copy_to', newkey, dst.index);
  ctx.reply.integer(1);
}

function cmdTouch(ctx: CommandContext, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupRead(ctx, argv[i]) !== undefined) n++;
  ctx.reply.integer(n);
}

/** The server's encoding thresholds; a hash that already became a hashtable is dumped as one. */
export function dumpLimits(ctx: CommandContext, v: Value): EncodingLimits {
  const lim = ctx.server.encodingLimits;
  return v instanceof Map && hashEncoding(v, lim) === 'hashtable' ? { ...lim, hashMaxListpackEntries: -1 } : lim;
}

function cmdDump(ctx: CommandContext, argv: string[]): void {
  const v = lookupRead(ctx, argv[1]);
  if (v === undefined) {
    ctx.reply.bulk(null);
    return;
  }
  ctx.reply.bulk(createDumpPayload(v, dumpLimits(ctx, v)));
}

export function cmdRestore(ctx: CommandContext, argv: string[]): void {
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = lc(argv[j]);
    const more = argv.length - j - 1;
    if (opt === 'replace') replace = true;
    else if (opt === 'absttl') absttl = true;
    else if (opt === 'idletime' && more >= 1 && freq === -1) {
      const n = parseLL(argv[++j]);
      if (n === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (n < 0) {
        ctx.reply.error('ERR Invalid IDLETIME value, must be >= 0');
        return;
      }
      idle = Number(n);
    } else if (opt === 'freq' && more >= 1 && idle === -1) {
      const n = parseLL(argv[++j]);
      if (n === null) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return;
      }
      if (n < 0 || n > 255) {
        ctx.reply.error('ERR Invalid FREQ value, must be >= 0 and <= 255');
        return;
      }
      freq = Number(n);
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return;
    }
  }
  const key = argv[1];
  // Errors below may follow a lazy expiry of the key, which must not drag RESTORE into the replication stream.
  if (!replace && ctx.db.get(key) !== undefined) {
    ctx.noPropagate();
    ctx.reply.error('BUSYKEY Target key name already exists.');
    return;
  }
  const ttl0 = parseBig(argv[2]);
  if (ttl0 === null) {
    ctx.noPropagate();
    ctx.reply.error(ERR_NOT_INTEGER);
    return;
  }
  if (ttl0 < 0n) {
    ctx.noPropagate();
    ctx.reply.error('ERR Invalid TTL value, must be >= 0');
    return;
  }
  let value: Value;
  try {
    value = parseDumpPayload(argv[3]);
  } catch (e) {
    ctx.noPropagate();
    ctx.reply.error(`ERR ${(e as Error).message}`);
    return;
  }
  const deleted = replace && ctx.db.delete(key);
  let ttl = ttl0;
  const now = Date.now();
  if (ttl !== 0n && !absttl) ttl += BigInt(now);
  if (ttl !== 0n && ttl <= BigInt(now) && ctx.server.replication.role() === 'master') {
    if (deleted) {
      ctx.propagateAs([['DEL', key]]);
      notify(ctx, NOTIFY_GENERIC, 'del', key);
    } else ctx.noPropagate();
    ctx.reply.ok();
    return;
  }
  ctx.db.add(key, value);
  if (ttl !== 0n) {
    ctx.db.setExpire(key, Number(ttl));
    if (!absttl) {
      const out = argv.slice();
      out[2] = String(ttl);
      out.push('ABSTTL');
      ctx.propagateAs([out]);
    }
  }
  if (idle >= 0 && ctx.db instanceof KeyspaceDb) ctx.db.setLastAccess(key, now - idle * 1000);
  notify(ctx, NOTIFY_GENERIC, 'restore', key);
  ctx.reply.ok();
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

function lfuPolicy(ctx: CommandContext): boolean {
  return (ctx.server.config.get('maxmemory-policy') ?? '').includes('lfu');
}

function objectSub(ctx: CommandContext, argv: string[]): void {
  const sub = lc(argv[1] ?? '');
  if (sub === 'help' && argv.length === 2) {
    ctx.reply.arrayHeader(OBJECT_HELP.length);
    for (const line of OBJECT_HELP) ctx.reply.simple(line);
    return;
  }
  if (argv.length !== 3 || !['encoding', 'refcount', 'idletime', 'freq'].includes(sub)) {
    ctx.reply.error(`ERR unknown subcommand '${argv[1] ?? ''}'. Try OBJECT HELP.`);
    return;
  }
  const key = argv[2];
  // OBJECT never touches the key's access time, so read it before looking the value up.
  const last = ctx.db.lastAccess(key);
  const v = lookupRead(ctx, key);
  if (v === undefined || last === undefined) {
    ctx.reply.bulk(null);
    return;
  }
  if (ctx.db instanceof KeyspaceDb) ctx.db.setLastAccess(key, last);
  switch (sub) {
    case 'encoding':
      ctx.reply.bulk((ctx.db instanceof KeyspaceDb ? ctx.db.stringEncoding(key) : undefined) ?? encodingOf(v, ctx.server.encodingLimits));
      return;
    case 'refcount': {
      const n = typeof v === 'string' ? parseLL(v) : null;
      ctx.reply.integer(n !== null && n >= 0 && n < SHARED_INTEGERS ? SHARED_REFCOUNT : 1);
      return;
    }
    case 'idletime':
      if (lfuPolicy(ctx)) {
        ctx.reply.error(
          'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
        );
        return;
      }
      ctx.reply.integer(Math.max(0, Math.floor((Date.now() - last) / 1000)));
      return;
    default:
      if (!lfuPolicy(ctx)) {
        ctx.reply.error(
          'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
        );
        return;
      }
      ctx.reply.integer(LFU_INIT_VAL);
  }
}

const objectCmd: CommandSpec = {
  ...def('object', -2, '', NOKEYS, 'slow', objectSub),
  subcommands: [
    def('object|help', 2, 'loading stale', NOKEYS, 'keyspace slow', objectSub),
    def('object|encoding', 3, 'readonly', [2, 2, 1], 'keyspace read slow', objectSub),
    def('object|freq', 3, 'readonly', [2, 2, 1], 'keyspace read slow', objectSub),
    def('object|idletime', 3, 'readonly', [2, 2, 1], 'keyspace read slow', objectSub),
    def('object|refcount', 3, 'readonly', [2, 2, 1], 'keyspace read slow', objectSub),
  ],
};

export const commands: CommandSpec[] = [
  def('del', -2, 'write', [1, -1, 1], 'keyspace write slow', cmdDel),
  def('unlink', -2, 'write fast', [1, -1, 1], 'keyspace write fast', cmdDel),
  def('exists', -2, 'readonly fast', [1, -1, 1], 'keyspace read fast', cmdExists),
  def('type', 2, 'readonly fast', [1, 1, 1], 'keyspace read fast', cmdType),
  def('expire', -3, 'write fast', [1, 1, 1], 'keyspace write fast', (ctx, argv) =>
    expireGeneric(ctx, argv, 'expire', true, true),
  ),
  def('pexpire', -3, 'write fast', [1, 1, 1], 'keyspace write fast', (ctx, argv) =>
    expireGeneric(ctx, argv, 'pexpire', true, false),
  ),
  def('expireat', -3, 'write fast', [1, 1, 1], 'keyspace write fast', (ctx, argv) =>
    expireGeneric(ctx, argv, 'expireat', false, true),
  ),
  def('pexpireat', -3, 'write fast', [1, 1, 1], 'keyspace write fast', (ctx, argv) =>
    expireGeneric(ctx, argv, 'pexpireat', false, false),
  ),
  def('ttl', 2, 'readonly fast', [1, 1, 1], 'keyspace read fast', (ctx, argv) => ttlGeneric(ctx, argv, false, false)),
  def('pttl', 2, 'readonly fast', [1, 1, 1], 'keyspace read fast', (ctx, argv) => ttlGeneric(ctx, argv, true, false)),
  def('expiretime', 2, 'readonly fast', [1, 1, 1], 'keyspace read fast', (ctx, argv) =>
    ttlGeneric(ctx, argv, false, true),
  ),
  def('pexpiretime', 2, 'readonly fast', [1, 1, 1], 'keyspace read fast', (ctx, argv) =>
    ttlGeneric(ctx, argv, true, true),
  ),
  def('persist', 2, 'write fast', [1, 1, 1], 'keyspace write fast', cmdPersist),
  def('keys', 2, 'readonly', NOKEYS, 'keyspace read slow dangerous', cmdKeys),
  def('scan', -2, 'readonly', NOKEYS, 'keyspace read slow', cmdScan),
  def('rename', 3, 'write', [1, 2, 1], 'keyspace write slow', (ctx, argv) => renameGeneric(ctx, argv, false)),
  def('renamenx', 3, 'write fast', [1, 2, 1], 'keyspace write fast', (ctx, argv) => renameGeneric(ctx, argv, true)),
  def('randomkey', 1, 'readonly', NOKEYS, 'keyspace read slow', cmdRandomkey),
  def('flushdb', -1, 'write', NOKEYS, 'keyspace write slow dangerous', cmdFlushdb),
  def('flushall', -1, 'write', NOKEYS, 'keyspace write slow dangerous', cmdFlushall),
  def('select', 2, 'loading stale fast', NOKEYS, 'fast connection', cmdSelect),
  def('swapdb', 3, 'write fast', NOKEYS, 'keyspace write fast dangerous', cmdSwapdb),
  def('move', 3, 'write fast', [1, 1, 1], 'keyspace write fast', cmdMove),
  def('copy', -3, 'write denyoom', [1, 2, 1], 'keyspace write slow', cmdCopy),
  def('touch', -2, 'readonly fast', [1, -1, 1], 'keyspace read fast', cmdTouch),
  objectCmd,
  def('dump', 2, 'readonly', [1, 1, 1], 'keyspace read slow', cmdDump),
  def('restore', -4, 'write denyoom', [1, 1, 1], 'keyspace write slow dangerous', cmdRestore),
];
