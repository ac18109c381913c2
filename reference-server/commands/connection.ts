/** Connection family: PING ECHO QUIT RESET AUTH HELLO SELECT-free client commands (CLIENT ...). */
import type { ClientState, CommandContext, CommandSpec } from './command.js';
import { container, def, NOKEYS, parseIntArg } from './define.js';
import { REDIS_VERSION } from '../config/config.js';
import { replyHelp } from './help.js';

const NAME_ERR = 'ERR Client names cannot contain spaces, newlines or special characters.';

function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

const ping = def('ping', -1, 'fast sentinel', NOKEYS, 'fast connection', (ctx, argv) => {
  if (argv.length > 2) {
    ctx.reply.error("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (ctx.client.kind === 'pubsub' && ctx.client.resp === 2) {
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk('pong');
    ctx.reply.bulk(argv.length === 2 ? argv[1] : '');
  } else if (argv.length === 2) ctx.reply.bulk(argv[1]);
  else ctx.reply.simple('PONG');
});

const echo = def('echo', 2, 'loading stale fast', NOKEYS, 'fast connection', (ctx, argv) => ctx.reply.bulk(argv[1]));

const quit = def('quit', -1, 'noscript loading stale fast no_auth allow_busy', NOKEYS, 'fast connection', (ctx) => {
  ctx.reply.ok();
  ctx.client.close(true);
});

const reset = def('reset', 1, 'noscript loading stale fast no_auth allow_busy', NOKEYS, 'fast connection', (ctx) => {
  const c = ctx.client;
  const s = ctx.server;
  s.discard(c);
  for (const ch of [...c.channels]) s.unsubscribe(c, ch, false);
  for (const p of [...c.patterns]) s.unsubscribe(c, p, true);
  for (const ch of [...c.shardChannels]) s.unsubscribeShard(c, ch);
  s.monitors.delete(c);
  c.monitor = false;
  c.kind = c.kind === 'pubsub' ? 'normal' : c.kind;
  c.resp = 2;
  c.dbIndex = 0;
  c.name = '';
  c.noEvict = false;
  s.tracking.disable(c);
  c.replyMode = 'on';
  // clientSetDefaultAuth: back to the default user, authenticated only if it needs no password.
  c.user = 'default';
  c.authenticated = !s.access.authRequired();
  ctx.reply.simple('RESET');
});

const auth = def('auth', -2, 'noscript loading stale fast no_auth allow_busy', NOKEYS, 'fast connection', (ctx, argv) => {
  if (argv.length > 3) {
    ctx.reply.error('ERR syntax error');
    return;
  }
  const s = ctx.server;
  if (argv.length === 2 && s.access.defaultNoPass()) {
    ctx.reply.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    return;
  }
  const user = argv.length === 3 ? argv[1] : 'default';
  const err = s.access.authenticate(ctx.client, user, argv[argv.length - 1], argv[0]);
  if (err) {
    ctx.reply.error(err);
    return;
  }
  ctx.reply.ok();
});

const hello = def('hello', -1, 'noscript loading stale fast no_auth sentinel allow_busy', NOKEYS, 'fast connection', (ctx, argv) => {
  const s = ctx.server;
  let ver = 0;
  if (argv.length >= 2) {
    const v = parseIntArg(argv[1]);
    if (v === null) {
      ctx.reply.error('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v < 2 || v > 3) {
      ctx.reply.error('NOPROTO unsupported protocol version');
      return;
    }
    ver = v;
  }
  // Options take effect in order, as Redis's helloCommand applies them: AUTH, then SETNAME, may precede an error.
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'auth' && more >= 2) {
      if (s.access.authenticate(ctx.client, argv[j + 1], argv[j + 2], argv[0]) !== undefined) {
        ctx.reply.error(WRONGPASS);
        return;
      }
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      if (!validName(argv[j + 1])) {
        ctx.reply.error(NAME_ERR);
        return;
      }
      ctx.client.name = argv[j + 1];
      j++;
    } else {
      ctx.reply.error(`ERR Syntax error in HELLO option '${argv[j]}'`);
      return;
    }
  }
  if (!ctx.client.authenticated) {
    ctx.reply.error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    return;
  }
  if (ver !== 0) ctx.client.resp = ver as 2 | 3;
  const r = ctx.reply;
  const sentinel = s.mode === 'sentinel';
  r.mapHeader(sentinel ? 6 : 7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(REDIS_VERSION);
  r.bulk('proto');
  r.integer(ctx.client.resp);
  r.bulk('id');
  r.integer(ctx.client.id);
  r.bulk('mode');
  r.bulk(s.mode);
  if (!sentinel) {
    r.bulk('role');
    r.bulk(s.replication.role() === 'replica' ? 'replica' : 'master');
  }
  r.bulk('modules');
  r.arrayHeader(0);
});

// ---- CLIENT ----

function flagsOf(c: ClientState): string {
  let f = '';
  if (c.kind === 'replica') f += 'S';
  if (c.kind === 'master') f += 'M';
  if (c.kind === 'pubsub') f += 'P';
  if (c.inMulti) f += 'x';
  if (c.blocked) f += 'b';
  if (c.tracking !== null) f += 't';
  if (c.tracking?.brokenRedirect) f += 'R';
  if (c.tracking?.bcast) f += 'B';
  if (c.monitor) f += 'O';
  if (c.closing) f += 'c';
  if (c.noEvict) f += 'e';
  return f === '' ? 'N' : f;
}

export function clientInfoLine(c: ClientState): string {
  const now = Date.now();
  // Redis trims the query buffer after the whole batch: the command being run is still in it.
  const qbuf = c.queryBufferLength;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.id + 7} name=${c.name} ` +
    `age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${flagsOf(c)} ` +
    `db=${c.dbIndex} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size} multi=${c.inMulti ? c.multiQueue.length : -1} ` +
    `qbuf=${qbuf} qbuf-free=${qbuf > 0 ? 20474 - qbuf : 0} argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 ` +
    `tot-mem=${22000 + qbuf} events=r cmd=${c.lastCommand} user=${c.user} redir=${c.tracking?.redirect ?? -1} resp=${c.resp}`;
}

function typeMatches(c: ClientState, t: string): boolean {
  if (t === 'normal') return c.kind === 'normal';
  if (t === 'replica' || t === 'slave') return c.kind === 'replica';
  if (t === 'master') return c.kind === 'master';
  return c.kind === 'pubsub';
}

const CLIENT_TYPES = ['normal', 'replica', 'slave', 'master', 'pubsub'];

function sub(name: string, arity: number, flags: string, fn: CommandSpec['execute']): CommandSpec {
  return def(`client|${name}`, arity, flags, NOKEYS, flags.includes('admin') ? 'admin slow dangerous connection' : 'slow connection', fn);
}

/** CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], checked as networking.c does. */
function clientTracking(ctx: CommandContext, argv: string[]): void {
  const s = ctx.server;
  const c = ctx.client;
  const o = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] as string[] };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === 'redirect' && more) {
      j++;
      if (o.redirect !== 0) {
        ctx.reply.error('ERR A client can only redirect to a single other client');
        return;
      }
      const id = parseIntArg(argv[j]);
      if (id === null) {
        ctx.reply.error('ERR value is not an integer or out of range');
        return;
      }
      if (s.clientById(id) === undefined) {
        ctx.reply.error('ERR The client ID you want redirect to does not exist');
        return;
      }
      o.redirect = id;
    } else if (opt === 'bcast') o.bcast = true;
    else if (opt === 'optin') o.optin = true;
    else if (opt === 'optout') o.optout = true;
    else if (opt === 'noloop') o.noloop = true;
    else if (opt === 'prefix' && more) o.prefixes.push(argv[++j]);
    else {
      ctx.reply.error('ERR syntax error');
      return;
    }
  }
  const mode = argv[2].toLowerCase();
  if (mode === 'on') {
    const refusal = s.tracking.refusal(c, o);
    if (refusal !== null) {
      ctx.reply.error(refusal);
      return;
    }
    s.tracking.enable(c, o);
  } else if (mode === 'off') s.tracking.disable(c);
  else {
    ctx.reply.error('ERR syntax error');
    return;
  }
  ctx.reply.ok();
}

const clientSubs: CommandSpec[] = [
  sub('id', 2, 'noscript loading stale', (ctx) => ctx.reply.integer(ctx.client.id)),
  sub('getredir', 2, 'noscript loading stale', (ctx) => ctx.reply.integer(ctx.client.tracking?.redirect ?? -1)),
  sub('tracking', -3, 'noscript loading stale', clientTracking),
  sub('caching', 3, 'noscript loading stale', (ctx, argv) => {
    const t = ctx.client.tracking;
    if (t === null) {
      ctx.reply.error('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
      return;
    }
    const opt = argv[2].toLowerCase();
    if (opt !== 'yes' && opt !== 'no') {
      ctx.reply.error('ERR syntax error');
      return;
    }
    if (opt === 'yes' ? !t.optin : !t.optout) {
      ctx.reply.error(`ERR CLIENT CACHING ${opt.toUpperCase()} is only valid when tracking is enabled in ${opt === 'yes' ? 'OPTIN' : 'OPTOUT'} mode.`);
      return;
    }
    t.caching = true;
    ctx.reply.ok();
  }),
  sub('trackinginfo', 2, 'noscript loading stale', (ctx) => {
    const t = ctx.client.tracking;
    const flags = [t === null ? 'off' : 'on'];
    if (t !== null) {
      if (t.bcast) flags.push('bcast');
      if (t.optin) flags.push('optin', ...(t.caching ? ['caching-yes'] : []));
      if (t.optout) flags.push('optout', ...(t.caching ? ['caching-no'] : []));
      if (t.noloop) flags.push('noloop');
      if (t.brokenRedirect) flags.push('broken_redirect');
    }
    ctx.reply.mapHeader(3);
    ctx.reply.bulk('flags');
    ctx.reply.setHeader(flags.length);
    for (const f of flags) ctx.reply.bulk(f);
    ctx.reply.bulk('redirect');
    ctx.reply.integer(t === null ? -1 : t.redirect);
    ctx.reply.bulk('prefixes');
    ctx.reply.bulkArray(t?.prefixes ?? []);
  }),
  sub('getname', 2, 'noscript loading stale', (ctx) => ctx.reply.bulk(ctx.client.name === '' ? null : ctx.client.name)),
  sub('setname', 3, 'noscript loading stale', (ctx, argv) => {
    if (!validName(argv[2])) {
      ctx.reply.error(NAME_ERR);
      return;
    }
    ctx.client.name = argv[2];
    ctx.reply.ok();
  }),
  sub('info', 2, 'noscript loading stale', (ctx) => {
    ctx.reply.verbatim(clientInfoLine(ctx.client) + '\n');
  }),
  sub('list', -2, 'admin noscript loading stale', (ctx, argv) => {
    const s = ctx.server;
    let list = [...s.clients.values()];
    for (let i = 2; i < argv.length; i++) {
      const opt = argv[i].toLowerCase();
      if (opt === 'type' && i + 1 < argv.length) {
        const t = argv[++i].toLowerCase();
        if (!CLIENT_TYPES.includes(t)) {
          ctx.reply.error(`ERR Unknown client type '${argv[i]}'`);
          return;
        }
        list = list.filter((c) => typeMatches(c, t));
      } else if (opt === 'id' && i + 1 < argv.length) {
        const ids = new Set<number>();
        for (i++; i < argv.length; i++) {
          const id = parseIntArg(argv[i]);
          if (id === null || id <= 0) {
            ctx.reply.error('ERR Invalid client ID');
            return;
          }
          ids.add(id);
        }
        list = list.filter((c) => ids.has(c.id));
      } else {
        ctx.reply.error('ERR syntax error');
        return;
      }
    }
    ctx.reply.verbatim(list.map((c) => clientInfoLine(c) + '\n').join(''));
  }),
  sub('kill', -3, 'admin noscript loading stale', (ctx, argv) => {
    const s = ctx.server;
    const me = ctx.client;
    if (argv.length === 3) {
      const target = [...s.clients.values()].find((c) => c.addr === argv[2]);
      if (!target) {
        ctx.reply.error('ERR No such client');
        return;
      }
      ctx.reply.ok();
      killClient(target, me);
      return;
    }
    let id: number | undefined;
    let type: string | undefined;
    let addr: string | undefined;
    let laddr: string | undefined;
    let user: string | undefined;
    let maxAge: number | undefined;
    let skipme = true;
    for (let i = 2; i < argv.length; i += 2) {
      if (i + 1 >= argv.length) {
        ctx.reply.error('ERR syntax error');
        return;
      }
      const opt = argv[i].toLowerCase();
      const val = argv[i + 1];
      if (opt === 'id') {
        const n = parseIntArg(val);
        if (n === null || n <= 0) {
          ctx.reply.error('ERR client-id should be greater than 0');
          return;
        }
        id = n;
      } else if (opt === 'type') {
        const t = val.toLowerCase();
        if (!CLIENT_TYPES.includes(t)) {
          ctx.reply.error(`ERR Unknown client type '${val}'`);
          return;
        }
        type = t;
      } else if (opt === 'addr') addr = val;
      else if (opt === 'laddr') laddr = val;
      else if (opt === 'user') {
        if (!s.access.userExists(val)) {
          ctx.reply.error(`ERR No such user '${val}'`);
          return;
        }
        user = val;
      }
      else if (opt === 'maxage') {
        const n = parseIntArg(val);
        if (n === null) {
          ctx.reply.error('ERR value is not an integer or out of range');
          return;
        }
        maxAge = n;
      } else if (opt === 'skipme') {
        const v = val.toLowerCase();
        if (v !== 'yes' && v !== 'no') {
          ctx.reply.error('ERR syntax error');
          return;
        }
        skipme = v === 'yes';
      } else {
        ctx.reply.error('ERR syntax error');
        return;
      }
    }
    const now = Date.now();
    const victims = [...s.clients.values()].filter((c) =>
      (id === undefined || c.id === id) && (type === undefined || typeMatches(c, type)) &&
      (addr === undefined || c.addr === addr) && (laddr === undefined || c.laddr === laddr) &&
      (user === undefined || c.user === user) && (maxAge === undefined || (now - c.createdAt) / 1000 >= maxAge) &&
      !(skipme && c === me));
    ctx.reply.integer(victims.length);
    for (const v of victims) killClient(v, me);
  }),
  sub('pause', -3, 'admin noscript loading stale', (ctx, argv) => {
    const s = ctx.server;
    const ms = parseIntArg(argv[2]);
    if (ms === null) {
      ctx.reply.error('ERR timeout is not an integer or out of range');
      return;
    }
    if (ms < 0) {
      ctx.reply.error('ERR timeout is negative');
      return;
    }
    let writesOnly = false;
    if (argv.length === 4) {
      const m = argv[3].toLowerCase();
      if (m === 'write') writesOnly = true;
      else if (m !== 'all') {
        ctx.reply.error('ERR CLIENT PAUSE mode must be WRITE or ALL');
        return;
      }
    } else if (argv.length > 4) {
      ctx.reply.error('ERR syntax error');
      return;
    }
    const until = Date.now() + ms;
    if (until > s.pause.until || !writesOnly) {
      s.pause.until = Math.max(until, s.pause.until);
      s.pause.writesOnly = writesOnly && (s.pause.until === until);
    }
    ctx.reply.ok();
  }),
  sub('unpause', 2, 'admin noscript loading stale', (ctx) => {
    const s = ctx.server;
    ctx.reply.ok();
    setImmediate(() => s.unpause());
  }),
  sub('no-evict', 3, 'admin noscript loading stale', (ctx, argv) => {
    const v = argv[2].toLowerCase();
    if (v !== 'on' && v !== 'off') {
      ctx.reply.error('ERR syntax error');
      return;
    }
    ctx.client.noEvict = v === 'on';
    ctx.reply.ok();
  }),
  sub('reply', 3, 'noscript loading stale', (ctx, argv) => {
    const c = ctx.client;
    const v = argv[2].toLowerCase();
    if (v === 'on') {
      c.replyMode = 'on';
      ctx.reply.ok();
    } else if (v === 'off' || v === 'skip') c.replyMode = v;
    else ctx.reply.error('ERR syntax error');
  }),
  sub('unblock', -3, 'admin noscript loading stale', (ctx, argv) => {
    const s = ctx.server;
    const id = parseIntArg(argv[2]);
    if (id === null) {
      ctx.reply.error('ERR value is not an integer or out of range');
      return;
    }
    let mode = 'timeout';
    if (argv.length === 4) mode = argv[3].toLowerCase();
    if (argv.length > 4 || (mode !== 'timeout' && mode !== 'error')) {
      ctx.reply.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
    const target = s.clients.get(id);
    if (!target || !target.blocked) {
      ctx.reply.integer(0);
      return;
    }
    const b = target.blocked;
    s.unblock(target);
    if (mode === 'error') target.reply.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    else b.req.onTimeout(target.reply);
    target.flush();
    setImmediate(() => s.resumeClient(target));
    ctx.reply.integer(1);
  }),
  sub('help', 2, 'loading stale', (ctx) => replyHelp(ctx.reply, 'CLIENT')),
];

function killClient(victim: ClientState, me: ClientState): void {
  if (victim === me) victim.close(true);
  else victim.destroy();
}

const client = container('client', 'slow', clientSubs);

export const commands: CommandSpec[] = [ping, echo, quit, reset, auth, hello, client];

export type { CommandContext };
