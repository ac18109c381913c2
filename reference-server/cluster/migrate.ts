/**
 * MIGRATE and RESTORE-ASKING with Redis 7.0.15's options, replies and errors (migrateCommand / restoreCommand in
 * cluster.c). MIGRATE serialises each key as DUMP does, sends AUTH, SELECT (when the cached connection last selected
 * another db) and one RESTORE (RESTORE-ASKING in cluster mode) per key, reads the replies, and deletes the keys the
 * target accepted (propagated as one DEL) unless COPY. Both commands exist with or without cluster mode, as in Redis.
 */
import type { CommandContext, CommandSpec, ServerApi } from '../commands/command.js';
import { lc, lookupRead, notify } from '../commands/access.js';
import { def } from '../commands/define.js';
import { cmdRestore, dumpLimits } from '../commands/keys.js';
import { NOTIFY_GENERIC } from '../config/keyspace-events.js';
import { createDumpPayload } from '../persistence/dump.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, parseLL } from '../store/numbers.js';
import { clusterModeOf } from './commands.js';
import { encodeCommand, MigrateSockets } from './migrate-link.js';

const REDACTED = '(redacted)';

const socketsByServer = new WeakMap<object, MigrateSockets>();

/** The server's MIGRATE connection cache, created with its INFO stats field at first use. */
export function migrateSocketsOf(server: ServerApi): MigrateSockets {
  let s = socketsByServer.get(server);
  if (!s) {
    const sockets = new MigrateSockets();
    s = sockets;
    socketsByServer.set(server, sockets);
    // Not enumerable: CONFIG RESETSTAT zeroes the counters but this is a count of open connections.
    Object.defineProperty(server.stats, 'migrate_cached_sockets', { get: () => sockets.size, enumerable: false, configurable: true });
  }
  return s;
}

/** Closes a server's cached MIGRATE connections (its shutdown). */
export function closeMigrateSockets(server: object): void {
  socketsByServer.get(server)?.closeAll();
}

/** getLongFromObjectOrReply's range. */
function parseLong(s: string): bigint | null {
  const v = parseLL(s);
  return v === null ? null : BigInt(v);
}

/** migrateGetKeys: the key, or with KEYS (after the options) the keys that follow it. */
export function migrateKeys(argv: string[]): string[] {
  const skip: Record<string, number> = { copy: 0, replace: 0, auth: 1, auth2: 2 };
  for (let i = 6; i < argv.length; i++) {
    const opt = lc(argv[i]!);
    if (opt === 'keys') return argv[3] !== '' ? [] : argv.slice(i + 1);
    i += skip[opt] ?? 0;
  }
  return [argv[3]!];
}

function cmdMigrate(ctx: CommandContext, argv: string[]): void {
  const reply = ctx.reply;
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lc(argv[j]!);
    if (opt === 'copy') copy = true;
    else if (opt === 'replace') replace = true;
    else if (opt === 'auth') {
      if (more < 1) return reply.error(ERR_SYNTAX);
      password = argv[++j]!;
      argv[j] = REDACTED;
    } else if (opt === 'auth2') {
      if (more < 2) return reply.error(ERR_SYNTAX);
      username = argv[++j]!;
      argv[j] = REDACTED;
      password = argv[++j]!;
      argv[j] = REDACTED;
    } else if (opt === 'keys') {
      if (argv[3] !== '') return reply.error('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break;
    } else return reply.error(ERR_SYNTAX);
  }
  const timeoutArg = parseLong(argv[5]!);
  const dbid = timeoutArg === null ? null : parseLong(argv[4]!);
  if (timeoutArg === null || dbid === null) return reply.error(ERR_NOT_INTEGER);
  // Beyond 2^31 ms a timer fires at once; Redis would wait that long, which no caller means.
  const timeout = timeoutArg <= 0n ? 1000 : Number(timeoutArg > 2147483647n ? 2147483647n : timeoutArg);

  // Missing keys are skipped; with none left the reply is +NOKEY, not an error (the keys may just have expired).
  let keys: string[] = [];
  for (let j = 0; j < numKeys; j++) {
    const k = argv[firstKey + j]!;
    if (lookupRead(ctx, k) !== undefined) keys.push(k);
  }
  if (keys.length === 0) {
    ctx.noPropagate();
    return reply.simple('NOKEY');
  }

  // The whole server waits on the target (worker thread + Atomics.wait), as Redis does: suspending only this client would let others change the keys in flight.
  const sockets = migrateSocketsOf(ctx.server);
  const host = argv[1]!;
  const port = argv[2]!;
  const restoreName = clusterModeOf(ctx.server) ? 'RESTORE-ASKING' : 'RESTORE';
  const deleted: string[] = [];
  let mayRetry = true;
  for (;;) {
    const cs = sockets.get(host, port, timeout);
    if (!cs) {
      ctx.noPropagate();
      return reply.error('IOERR error or timeout connecting to the client');
    }
    let cmd = '';
    if (password !== null) cmd += encodeCommand(username !== null ? ['AUTH', username, password] : ['AUTH', password]);
    const select = BigInt(cs.lastDbid) !== dbid;
    if (select) cmd += encodeCommand(['SELECT', String(dbid)]);
    const sent: string[] = [];
    const now = Date.now();
    for (const k of keys) {
      const value = ctx.db.get(k);
      if (value === undefined) continue;
      let ttl = 0;
      const at = ctx.db.getExpire(k);
      if (at !== undefined) {
        ttl = at - now;
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      sent.push(k);
      const args = [restoreName, k, String(ttl), createDumpPayload(value, dumpLimits(ctx, value))];
      if (replace) args.push('REPLACE');
      cmd += encodeCommand(args);
    }
    keys = sent;

    let writeError = false;
    let timedOut = false;
    let failed = false;
    const heads = (password !== null ? 1 : 0) + (select ? 1 : 0);
    // The commands go out and the replies (AUTH's, SELECT's, then one per key) come back in one blocking exchange.
    const x = sockets.exchange(cs, Buffer.from(cmd, 'latin1'), heads + keys.length, timeout);
    if (!x.written) {
      writeError = true;
      timedOut = x.timedOut;
      failed = true;
    }
    let authLine = '';
    let selectLine = '';
    if (!failed && heads > 0) {
      if (x.lines.length < heads) {
        timedOut = x.timedOut;
        failed = true;
      } else {
        if (password !== null) authLine = x.lines[0]!;
        if (select) selectLine = x.lines[heads - 1]!;
      }
    }
    if (!failed) {
      const r = { ok: x.ok, timedOut: x.timedOut, lines: heads > 0 ? x.lines.slice(heads) : x.lines };
      let errorFromTarget = false;
      const socketError = !r.ok;
      let j = 0;
      for (; j < r.lines.length; j++) {
        const line = r.lines[j]!;
        if (authLine.startsWith('-') || selectLine.startsWith('-') || line.startsWith('-')) {
          if (!errorFromTarget) {
            // After an error the target's selected db is unknown: the next MIGRATE selects again.
            cs.lastDbid = -1;
            const err = authLine.startsWith('-') ? authLine : selectLine.startsWith('-') ? selectLine : line;
            errorFromTarget = true;
            reply.error(`ERR Target instance replied with error: ${err.slice(1)}`);
          }
        } else if (!copy) {
          const k = keys[j]!;
          ctx.db.delete(k);
          notify(ctx, NOTIFY_GENERIC, 'del', k);
          deleted.push(k);
        }
      }
      // A connection that failed before its first reply (not by timeout) is retried once, as a stale cached one.
      const retry = !errorFromTarget && socketError && j === 0 && mayRetry && !r.timedOut;
      if (!retry) {
        if (socketError) sockets.close(host, port);
        if (deleted.length > 0) ctx.propagateAs([['DEL', ...deleted]]);
        else ctx.noPropagate();
        if (!errorFromTarget && socketError) return reply.error('IOERR error or timeout reading to target instance');
        if (!errorFromTarget) {
          cs.lastDbid = Number(dbid);
          reply.ok();
        }
        return;
      }
      timedOut = r.timedOut;
    }
    sockets.close(host, port);
    if (!timedOut && mayRetry) {
      mayRetry = false;
      continue;
    }
    if (deleted.length > 0) ctx.propagateAs([['DEL', ...deleted]]);
    else ctx.noPropagate();
    return reply.error(`IOERR error or timeout ${writeError ? 'writing' : 'reading'} to target instance`);
  }
}

export const commands: CommandSpec[] = [
  {
    ...def('migrate', -6, 'write movablekeys', [3, 3, 1], 'keyspace write slow dangerous', cmdMigrate),
    getKeys: migrateKeys,
  },
  // RESTORE sent by a migrating node: the 'asking' flag lets it write to a slot this node is importing.
  def('restore-asking', -4, 'write denyoom asking', [1, 1, 1], 'keyspace write slow dangerous', cmdRestore),
];
