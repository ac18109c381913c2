/**
 * Replication commands: REPLICAOF SLAVEOF REPLCONF PSYNC SYNC WAIT FAILOVER ROLE. The replication mode's own
 * commands (install.ts exports them into the table); they reach the Replication the mode installed.
 */
import type { BlockRequest, ClientState, CommandContext, CommandSpec } from '../commands/command.js';
import { def, NOKEYS, parseIntArg } from '../commands/define.js';
import type { Client } from '../server/connection.js';
import { Replication } from './manager.js';

function repl(ctx: CommandContext): Replication | undefined {
  const r = ctx.server.replication;
  return r instanceof Replication ? r : undefined;
}

/** The server's own client object behind a command's ClientState (the replication link keeps sockets and state). */
function linkClient(r: Replication, c: ClientState): Client {
  const client = r.server.clients.get(c.id);
  if (client === undefined) throw new Error('client is not connected');
  return client;
}

function noRepl(ctx: CommandContext): void {
  ctx.reply.error('ERR replication is not enabled on this server');
}

function replicaof(ctx: CommandContext, argv: string[]): void {
  const r = repl(ctx);
  if (!r) return noRepl(ctx);
  const s = ctx.server;
  if (s.mode === 'cluster') return ctx.reply.error('ERR REPLICAOF not allowed in cluster mode.');
  if (r.failoverState !== 'no-failover') return ctx.reply.error('ERR REPLICAOF not allowed while failing over.');
  const c = ctx.client;
  if (argv[1]!.toLowerCase() === 'no' && argv[2]!.toLowerCase() === 'one') {
    if (r.masterHost !== null) r.unsetMaster(`user request from 'id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=0 name=${c.name}'`);
    ctx.reply.ok();
    return;
  }
  if (c.kind === 'replica') return ctx.reply.error('ERR Command is not valid when client is a replica.');
  const port = parseIntArg(argv[2]!);
  if (port === null) return ctx.reply.error('ERR value is not an integer or out of range');
  if (port < 0 || port > 65535) return ctx.reply.error('ERR Invalid master port');
  if (r.masterHost !== null && r.masterHost.toLowerCase() === argv[1]!.toLowerCase() && r.masterPort === port) {
    s.log('notice', 'REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.');
    ctx.reply.simple('OK Already connected to specified master');
    return;
  }
  r.setMaster(argv[1]!, port);
  s.log('notice', `REPLICAOF ${argv[1]}:${port} enabled (user request from 'id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=0 name=${c.name}')`);
  ctx.reply.ok();
}

function replconf(ctx: CommandContext, argv: string[]): void {
  const r = repl(ctx);
  if (!r) return noRepl(ctx);
  if (argv.length % 2 === 0) return ctx.reply.error('ERR syntax error');
  const c = linkClient(r, ctx.client);
  for (let i = 1; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1]!;
    if (opt === 'listening-port') {
      const port = parseIntArg(val);
      if (port === null) return ctx.reply.error('ERR value is not an integer or out of range');
      r.replconfPending(c).port = port;
    } else if (opt === 'ip-address') {
      r.replconfPending(c).ip = val;
    } else if (opt === 'capa') {
      const p = r.replconfPending(c);
      if (val.toLowerCase() === 'eof') p.capaEof = true;
      else if (val.toLowerCase() === 'psync2') p.capaPsync2 = true;
    } else if (opt === 'ack') {
      // ACKs come from replicas and get no reply.
      const off = parseIntArg(val);
      if (off !== null) r.ack(c, off);
      ctx.noPropagate();
      return;
    } else if (opt === 'getack') {
      if (r.masterHost !== null && c.kind === 'master') r.sendAck();
      return;
    } else if (opt === 'rdb-only' || opt === 'rdb-filter-only') {
      // Accepted for compatibility with redis-cli --rdb; the full stream is sent anyway.
    } else {
      return ctx.reply.error(`ERR Unrecognized REPLCONF option: ${argv[i]}`);
    }
  }
  ctx.reply.ok();
}

function psync(ctx: CommandContext, argv: string[]): void {
  const r = repl(ctx);
  if (!r) return noRepl(ctx);
  r.sync(linkClient(r, ctx.client), argv, argv[0]!.toLowerCase() === 'psync');
}

function role(ctx: CommandContext): void {
  const r = repl(ctx);
  const reply = ctx.reply;
  if (!r || r.masterHost === null) {
    const offset = r ? r.offset : 0;
    const reps = r ? [...r.replicas.values()].filter((x) => x.state === 'online' && !x.client.closed) : [];
    reply.arrayHeader(3);
    reply.bulk('master');
    reply.integer(offset);
    reply.arrayHeader(reps.length);
    for (const x of reps) reply.bulkArray([x.ip, String(x.port), String(x.ackOffset)]);
    return;
  }
  reply.arrayHeader(5);
  reply.bulk('slave');
  reply.bulk(r.masterHost);
  reply.integer(r.masterPort);
  reply.bulk(r.roleState());
  reply.integer(r.linkState === 'connected' ? r.offset : -1);
}

function wait(ctx: CommandContext, argv: string[]): void | BlockRequest {
  const r = repl(ctx);
  if (!r) return noRepl(ctx);
  if (r.masterHost !== null) {
    return ctx.reply.error('ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.');
  }
  const needed = parseIntArg(argv[1]!);
  if (needed === null) return ctx.reply.error('ERR value is not an integer or out of range');
  const timeout = parseIntArg(argv[2]!);
  if (timeout === null) return ctx.reply.error('ERR timeout is not an integer or out of range');
  if (timeout < 0) return ctx.reply.error('ERR timeout is negative');
  const offset = r.offset;
  const now = r.ackedCount(offset);
  if (now >= needed || ctx.client.inMulti || ctx.server.currentClient !== ctx.client) {
    ctx.reply.integer(now);
    return;
  }
  const c = linkClient(r, ctx.client);
  const s = ctx.server;
  const req: BlockRequest = {
    keys: [],
    timeoutMs: timeout,
    retry: () => false,
    onTimeout: (reply) => reply.integer(r.ackedCount(offset)),
  };
  r.addWaiter({
    client: c, offset, needed, deadline: 0,
    active: () => c.blocked?.req === req,
    done: (n) => {
      if (c.blocked?.req !== req) return;
      s.unblock(c);
      c.reply.integer(n);
      c.flush();
      setImmediate(() => { if (!c.closed && !c.blocked) { r.server.processClient(c); c.flush(); } });
    },
  });
  r.requestAcks();
  return req;
}

function failover(ctx: CommandContext, argv: string[]): void {
  const r = repl(ctx);
  if (!r) return noRepl(ctx);
  const s = ctx.server;
  if (s.mode === 'cluster') return ctx.reply.error('ERR FAILOVER not allowed in cluster mode.');
  let host: string | undefined, port = 0, timeout = 0, hasTimeout = false, abort = false, force = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!.toLowerCase();
    if (a === 'to' && i + 2 < argv.length && host === undefined) {
      host = argv[i + 1]!;
      const p = parseIntArg(argv[i + 2]!);
      if (p === null) return ctx.reply.error('ERR value is not an integer or out of range');
      port = p;
      i += 2;
    } else if (a === 'timeout' && i + 1 < argv.length && !hasTimeout) {
      const t = parseIntArg(argv[i + 1]!);
      if (t === null) return ctx.reply.error('ERR value is not an integer or out of range');
      timeout = t; hasTimeout = true; i++;
    } else if (a === 'abort' && !abort) abort = true;
    else if (a === 'force' && !force) force = true;
    else return ctx.reply.error('ERR syntax error');
  }
  if (abort) {
    if (r.failoverState === 'no-failover') return ctx.reply.error('ERR No failover in progress.');
    r.abortFailover('Failover manually aborted');
    return ctx.reply.ok();
  }
  if (force && (!hasTimeout || host === undefined)) return ctx.reply.error('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
  if (hasTimeout && timeout <= 0) return ctx.reply.error('ERR FAILOVER timeout must be greater than 0');
  if (r.masterHost !== null) return ctx.reply.error('ERR FAILOVER is not valid when server is a replica.');
  const reps = [...r.replicas.values()].filter((x) => !x.client.closed);
  if (reps.length === 0) return ctx.reply.error('ERR FAILOVER requires connected replicas.');
  if (r.failoverState !== 'no-failover') return ctx.reply.error('ERR FAILOVER already in progress.');
  let target;
  if (host !== undefined) {
    target = reps.find((x) => x.ip === host && x.port === port);
    if (!target) return ctx.reply.error('ERR FAILOVER target HOST and PORT is not a replica.');
  } else {
    target = reps.filter((x) => x.state === 'online').sort((a, b) => b.ackOffset - a.ackOffset)[0];
  }
  if (!target || target.state !== 'online') return ctx.reply.error('ERR FAILOVER target replica is not online.');
  r.failover = { host: target.ip, port: target.port, force, deadline: hasTimeout ? Date.now() + timeout : 0 };
  r.failoverState = 'waiting-for-sync';
  // Writes pause (reads go on) until the target caught up and took over.
  s.pause.until = Number.MAX_SAFE_INTEGER;
  s.pause.writesOnly = true;
  s.log('notice', `FAILOVER requested to ${target.ip}:${target.port}.`);
  ctx.reply.ok();
}

const ADMIN = 'admin slow dangerous';

export const commands: CommandSpec[] = [
  def('replicaof', 3, 'admin noscript stale no_async_loading', NOKEYS, ADMIN, replicaof),
  def('slaveof', 3, 'admin noscript stale no_async_loading', NOKEYS, ADMIN, replicaof),
  def('replconf', -1, 'admin noscript loading stale allow_busy', NOKEYS, ADMIN, replconf),
  def('psync', -3, 'admin noscript no_async_loading no_multi', NOKEYS, ADMIN, psync),
  def('sync', 1, 'admin noscript no_async_loading no_multi', NOKEYS, ADMIN, psync),
  def('wait', 3, 'noscript', NOKEYS, 'slow connection', wait),
  def('failover', -1, 'admin noscript stale', NOKEYS, ADMIN, failover),
  def('role', 1, 'noscript loading stale fast', NOKEYS, 'admin fast dangerous', role),
];
