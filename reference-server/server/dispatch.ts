/**
 * Command dispatch: reading a client's buffered commands, Redis's processCommand (every refusal rule, then MULTI
 * queueing or execution) and call() (timing, stats, SLOWLOG, MONITOR, propagation). The one place that knows the
 * order of the rules; modes take part only through the hooks in modes.ts.
 *
 * Propagation rules: after a command runs, it propagates
 *   - what the command passed to ctx.propagateAs(...), if it called it (even if nothing changed), else
 *   - the command's own argv, if the command has the 'write' or 'may_replicate' flag and at least one key
 *     was modified during the call (Db hooks -> keyModified), else nothing;
 *   - nothing at all if the command called ctx.noPropagate().
 * A served blocked command follows the same rules for its retry() call. Keys removed by lazy or active expiry
 * are propagated as DEL before the command's own argvs (keyExpired). propagate.ts collects them per execution unit.
 */
// Imported, not the global: the global is an accessor, looked up again on every call.
import { performance } from 'node:perf_hooks';
import type { BlockRequest, CommandContext, CommandSpec, Db } from '../commands/command.js';
import type { BlockedState, Client } from './connection.js';
import { commandKeys } from '../commands/server.js';
import { OOM_ERROR } from './maxmemory.js';
import { ProtocolError } from '../resp/parser.js';
import type { ReplyBuffer } from '../resp/writer.js';
import { LatencyHistogram } from './latency-histogram.js';
import { feedMonitors } from './monitor.js';
import {
  F_ADMIN, F_DENYOOM, F_FAST, F_MAYREP, F_NOAUTH, F_NOMULTI, F_PROTECTED, F_READONLY, F_SKIPMON, F_SKIPSLOW, F_WRITE, flagBits,
} from './flags.js';
import type { CommandStat, StatMap } from './stats.js';
import type { CommandCall } from './modes.js';
import type { RedisServer } from './server.js';

/** Their replies are pub/sub pushes, which CLIENT REPLY OFF does not silence. */
const SUBSCRIPTION_COMMANDS = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);
/** Commands allowed in a RESP2 subscribed context. */
const PUBSUB_ALLOWED = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);
/** Commands executed immediately inside MULTI instead of being queued. */
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.');
}

/** The CommandContext given to one execution. */
export class Context implements CommandContext {
  replaced: string[][] | null = null;
  suppress = false;
  dbAtStart: number;
  constructor(readonly server: RedisServer, public client: Client) {
    this.dbAtStart = client.dbIndex;
  }
  /** Makes a pooled context fresh for another call. */
  reset(client: Client): this {
    this.client = client;
    this.dbAtStart = client.dbIndex;
    this.replaced = null;
    this.suppress = false;
    return this;
  }
  get reply(): ReplyBuffer {
    return this.client.reply;
  }
  get db(): Db {
    return this.server.dbs[this.client.dbIndex];
  }
  propagateAs(argvs: string[][]): void {
    this.replaced = (this.replaced ?? []).concat(argvs);
  }
  noPropagate(): void {
    this.suppress = true;
  }
}

export class Dispatcher {
  /** Command names as clients spell them (e.g. upper case) -> spec. */
  private lookupCache = new Map<string, CommandSpec>();
  /** The last name looked up and its spec: clients repeat commands, and the parser reuses the name string. */
  private lastLookupName = '';
  private lastLookupSpec: CommandSpec | undefined = undefined;
  /** Contexts are reused (a stack, as EXEC and scripts nest calls): one less allocation per command. */
  private readonly contextPool: Context[] = [];
  /** The last spec's stat entry (valid while commandStats' epoch is unchanged). */
  private lastStatSpec: CommandSpec | null = null;
  private lastStat: CommandStat | null = null;
  private lastStatEpoch = -1;
  /** Wall clock (ms) and performance.now() read together at a batch's start: later commands derive the time. */
  private batchWall = 0;
  private batchPerf = 0;
  /** Unix ms fixed for the running command (Redis 7.0 caches the time in call() for expiry checks). */
  private cmdNow = 0;
  private timeFixed = false;
  /**
   * End time of the previous command in the current read batch: the next command's start, so each command
   * costs one clock read. Only valid (stampFresh) inside processClient's loop.
   */
  private lastStamp = 0;
  private stampFresh = false;
  private batchDepth = 0;
  /** Hot-path copies of config values, kept current by the server's config listener. */
  slowlogThreshold = 0;
  queryBufferLimit = 0;
  protoMaxBulkLen = 0;
  latencyTracking = false;
  latencyThresholdUs = 0;

  constructor(private readonly server: RedisServer) {}

  /** The command table changed (a mode registered or replaced commands): cached lookups are dropped. */
  tableChanged(): void {
    this.lookupCache.clear();
    this.lastLookupName = '';
    this.lastLookupSpec = undefined;
  }

  /** Parses and runs every complete command buffered for the client (called once per socket read). */
  processClient(c: Client): void {
    if (c.blocked || c.paused) return;
    this.server.stats.total_reads_processed++;
    this.stampFresh = false;
    if (this.batchDepth++ === 0) {
      this.batchWall = Date.now();
      this.batchPerf = performance.now();
      this.lastStamp = this.batchPerf;
      this.stampFresh = true;
    }
    try {
      this.runBatch(c);
    } finally {
      this.batchDepth--;
      this.stampFresh = false;
    }
  }

  private runBatch(c: Client): void {
    const blocked = this.server.blocked;
    for (;;) {
      if (c.closing || c.blocked || c.paused || c.detached) break;
      let argv: string[] | null;
      try {
        c.parser.limits.authRequired = !c.authenticated;
        c.parser.limits.maxBulkLen = c.kind === 'master' ? Number.MAX_SAFE_INTEGER : this.protoMaxBulkLen;
        argv = c.parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        c.reply.error('ERR ' + e.message);
        this.server.log('verbose', `Protocol error (${e.message}) from client: id=${c.id} addr=${c.addr} laddr=${c.laddr}. `);
        c.close(true);
        break;
      }
      if (argv === null) break;
      if (argv.length === 0) continue;
      if (c.kind === 'replica') {
        if (this.replicaCommand(c, argv)) break;
        continue;
      }
      this.processCommand(c, argv);
      if (blocked.hasReady) {
        this.stampFresh = false;
        blocked.handleReadyKeys();
      }
    }
    if (!c.closing && c.kind !== 'master' && c.parser.buffered > this.queryBufferLimit) {
      this.server.log('warning', `Closing client that reached max query buffer length: id=${c.id} addr=${c.addr} (qbuf initial bytes: ...)`);
      c.close(false);
    }
  }

  /**
   * A command on a replica's link: replicas only send REPLCONF, so one that touches the keyspace is refused and any
   * reply at all ends the link (Redis's "Replica generated a reply"); true when the replica was disconnected.
   */
  private replicaCommand(c: Client, argv: string[]): boolean {
    const s = this.server;
    const spec = this.lookup(argv[0]);
    const sub = spec !== undefined && argv.length > 1 ? spec.subcommands?.find((x) => x.name === `${spec.name}|${argv[1].toLowerCase()}`) : undefined;
    const name = (sub ?? spec)?.name ?? '<unknown>';
    const before = c.reply.len;
    const errors = s.stats.total_error_replies;
    if (spec !== undefined && flagBits(spec) & (F_WRITE | F_MAYREP | F_READONLY)) {
      this.reject(c, "ERR Replica can't interact with the keyspace", spec);
    } else {
      this.processCommand(c, argv);
    }
    if (c.closed || c.reply.len === before) return false;
    if (s.stats.total_error_replies !== errors) {
      const at = c.reply.out.lastIndexOf('\r\n-', c.reply.out.length - 3);
      const text = c.reply.out.slice(at === -1 ? 1 : at + 3).split('\r\n')[0];
      s.log('warning', `== CRITICAL == This master is sending an error to its replica: '${text}' after processing the command '${name}'`);
      s.stats.unexpected_error_replies++;
    }
    s.log('warning', `Replica generated a reply to command '${name}', disconnecting it: id=${c.id} addr=${c.addr} laddr=${c.laddr} name=${c.name ?? ''} flags=S`);
    // What was queued before (the FULLRESYNC line, stream bytes) still goes out; the reply never does.
    c.reply.truncate(before);
    c.close(true);
    return true;
  }

  lookup(name: string): CommandSpec | undefined {
    if (name === this.lastLookupName) return this.lastLookupSpec;
    const commands = this.server.commands;
    const spec = commands.get(name) ?? this.lookupCache.get(name);
    if (spec !== undefined) {
      this.lastLookupName = name;
      this.lastLookupSpec = spec;
      return spec;
    }
    const found = commands.get(name.toLowerCase());
    // Clients send names in upper case; remember those spellings (bounded, so junk names cannot grow it).
    if (found !== undefined && this.lookupCache.size < 4096) this.lookupCache.set(name, found);
    return found;
  }

  /** Redis's processCommand: every refusal rule, then MULTI queueing or execution. */
  processCommand(c: Client, argv: string[]): void {
    const s = this.server;
    const reply = c.reply;
    let spec = this.lookup(argv[0]);
    if (spec !== undefined && spec.subcommands !== undefined && argv.length >= 2) {
      const sub = argv[1].toLowerCase();
      const found = spec.subcommands.find((x) => x.name.slice(x.name.indexOf('|') + 1) === sub);
      if (!found) {
        this.reject(c, `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
        return;
      }
      spec = found;
    }
    if (spec === undefined) {
      let args = '';
      for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${argv[i].slice(0, 128 - args.length)}' `;
      this.reject(c, `ERR unknown command '${argv[0].slice(0, 128)}', with args beginning with: ${args}`);
      return;
    }
    if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
      this.reject(c, `ERR wrong number of arguments for '${spec.name}' command`, spec);
      return;
    }
    const fb = flagBits(spec);
    if (fb & F_PROTECTED) {
      const allow = spec.name === 'debug' ? s.config.get('enable-debug-command') : s.config.get('enable-module-command');
      if (allow === 'no' || (allow === 'local' && !isLoopback(c.addr.slice(0, c.addr.lastIndexOf(':'))))) {
        const opt = spec.name === 'debug' ? 'enable-debug-command' : 'enable-module-command';
        this.reject(c, `ERR ${spec.name.toUpperCase()} command not allowed. If the ${opt} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`, spec);
        return;
      }
    }
    if (!c.authenticated && !(fb & F_NOAUTH)) {
      this.reject(c, 'NOAUTH Authentication required.', spec);
      return;
    }
    if (c.inMulti && fb & F_NOMULTI) {
      this.reject(c, 'ERR Command not allowed inside a transaction', spec);
      return;
    }
    const access = s.access;
    if (access.check !== undefined) {
      // Redis's ACLCheckAllPerm: a NOPERM refusal (EXEC refused so aborts its transaction).
      const denied = access.check(c, spec, argv, false);
      if (denied !== undefined) {
        // rejectCommand: a refused EXEC always answers EXECABORT, in a transaction or not.
        if (spec.name === 'exec') this.abortExec(c, spec, denied);
        else this.reject(c, denied, spec);
        return;
      }
    }
    const before = s.modeHooks.beforeCommand;
    if (before.length !== 0) {
      // Where Redis asks cluster.c (getNodeByQuery): a mode may answer in the command's place (MOVED, ASK, ...).
      const call: CommandCall = { client: c, spec, argv };
      for (let i = 0; i < before.length; i++) {
        const refusal = before[i](call);
        if (refusal === undefined) continue;
        if (c.inMulti && spec.name === 'exec') {
          this.statFor(spec).rejected++;
          s.multi.discard(c);
          reply.error(refusal);
        } else this.reject(c, refusal, spec);
        return;
      }
    }
    if (s.memory.limit > 0 && c.kind !== 'master' && !s.pause.active() && !s.memory.ensure()) {
      // Over maxmemory with nothing to evict: what may grow memory is refused, and inside MULTI anything but
      // EXEC, DISCARD, QUIT and RESET (queuing grows memory too); an EXEC whose queue holds such a command aborts.
      const isExec = spec.name === 'exec';
      const queuing = c.inMulti && !isExec && spec.name !== 'discard' && spec.name !== 'quit' && spec.name !== 'reset';
      const execOfDenyoom = c.inMulti && isExec && c.multiQueue.some((q) => (flagBits(q.spec) & F_DENYOOM) !== 0);
      if (execOfDenyoom) {
        this.abortExec(c, spec, OOM_ERROR);
        return;
      }
      if ((fb & F_DENYOOM) !== 0 || queuing) {
        this.reject(c, OOM_ERROR, spec);
        return;
      }
    }
    // EXEC counts as a write when its queue holds one: refused as a whole, as Redis's processCommand does.
    const execOfWrites = c.inMulti && spec.name === 'exec' && c.multiQueue.some((q) => (flagBits(q.spec) & F_WRITE) !== 0);
    const isWrite = (fb & F_WRITE) !== 0 || execOfWrites;
    // A failed background save stops writes (and PING, so monitors notice) as writeCommandsDeniedByDiskError does.
    if ((isWrite || spec.name === 'ping') && c.kind !== 'master') {
      const misconf = s.persistence.writesDeniedBy?.();
      if (misconf !== undefined) {
        if (execOfWrites) this.abortExec(c, spec, misconf);
        else this.reject(c, misconf, spec);
        return;
      }
    }
    const refuseWrite = s.modeHooks.refuseWrite;
    if (isWrite && c.kind !== 'master' && refuseWrite.length !== 0) {
      for (let i = 0; i < refuseWrite.length; i++) {
        const refusal = refuseWrite[i](c);
        if (refusal === undefined) continue;
        if (execOfWrites) this.abortExec(c, spec, refusal);
        else this.reject(c, refusal, spec);
        return;
      }
    }
    if (c.resp === 2 && c.kind === 'pubsub' && !PUBSUB_ALLOWED.has(spec.name)) {
      this.reject(c, `ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`, spec);
      return;
    }
    const refuseStale = s.modeHooks.refuseStale;
    if (c.kind !== 'master' && refuseStale.length !== 0) {
      // EXEC is checked as its queue: one command that may not run on a stale replica refuses the whole transaction.
      const staleSpec = c.inMulti && spec.name === 'exec' ? c.multiQueue.find((q) => !q.spec.flags.includes('stale'))?.spec : spec;
      for (let i = 0; staleSpec !== undefined && i < refuseStale.length; i++) {
        const stale = refuseStale[i](c, staleSpec);
        if (stale === undefined) continue;
        if (staleSpec !== spec) this.abortExec(c, spec, stale);
        else this.reject(c, stale, spec);
        return;
      }
    }
    const refuseLoading = s.modeHooks.refuseLoading;
    if (c.kind !== 'master' && refuseLoading.length !== 0) {
      // EXEC is checked as its queue, as for stale data above.
      const loadSpec = c.inMulti && spec.name === 'exec' ? c.multiQueue.find((q) => !q.spec.flags.includes('loading'))?.spec : spec;
      for (let i = 0; loadSpec !== undefined && i < refuseLoading.length; i++) {
        const refusal = refuseLoading[i](c, loadSpec);
        if (refusal === undefined) continue;
        if (loadSpec !== spec) this.abortExec(c, spec, refusal);
        else this.reject(c, refusal, spec);
        return;
      }
    }
    if (c.inMulti && !MULTI_IMMEDIATE.has(spec.name)) {
      c.multiQueue.push({ spec, argv });
      reply.simple('QUEUED');
      return;
    }
    const pause = s.pause;
    if (pause.until > 0 && c.kind === 'normal' && (!pause.writesOnly || isWrite || fb & F_MAYREP)) {
      if (Date.now() < pause.until) {
        c.paused = argv;
        return;
      }
      pause.until = 0;
    }
    this.call(c, spec, argv);
  }

  /** Redis's execCommandAbort: the transaction is discarded and EXEC answers with the reason. */
  private abortExec(c: Client, spec: CommandSpec, reason: string): void {
    this.statFor(spec).rejected++;
    this.server.multi.discard(c);
    c.reply.error(`EXECABORT Transaction discarded because of: ${reason}`);
  }

  private reject(c: Client, msg: string, spec?: CommandSpec): void {
    if (c.inMulti) c.multiError = true;
    if (spec) this.statFor(spec).rejected++;
    c.reply.error(msg);
  }

  private statFor(spec: CommandSpec): CommandStat {
    const stats = this.server.commandStats as StatMap;
    const epoch = stats.epoch;
    if (spec === this.lastStatSpec && epoch === this.lastStatEpoch) return this.lastStat as CommandStat;
    const st = stats.of(spec.name);
    this.lastStatSpec = spec;
    this.lastStat = st;
    this.lastStatEpoch = epoch;
    return st;
  }

  /** Runs one command with its context, then slowlog, monitor and propagation bookkeeping. */
  call(c: Client, spec: CommandSpec, argv: string[]): void {
    const s = this.server;
    const ctx = this.contextPool.pop()?.reset(c) ?? new Context(s, c);
    const mod = s.modCount;
    const start = this.stampFresh ? this.lastStamp : performance.now();
    // Nested calls (EXEC's queue) take their own start time.
    this.stampFresh = false;
    const errorsBefore = s.stats.total_error_replies;
    const silent = c.replyMode !== 'on';
    const outBefore = c.reply.len;
    let blockReq: void | BlockRequest = undefined;
    c.lastCommand = spec.name;
    const prevClient = s.currentClient;
    const top = prevClient === null;
    if (top) s.propagation.beginUnit();
    s.currentClient = c;
    const outerFixed = this.timeFixed;
    if (!outerFixed) {
      // Inside a read batch the wall clock is derived from the batch's reading (one gettimeofday per batch).
      this.cmdNow = this.batchDepth === 1 && prevClient === null ? this.batchWall + Math.floor(start - this.batchPerf) : Date.now();
      this.timeFixed = true;
    }
    try {
      blockReq = spec.execute(ctx, argv);
    } catch (e) {
      c.reply.error(`ERR ${(e as Error).message}`);
      s.log('warning', `Internal error in '${spec.name}': ${(e as Error).stack ?? e}`);
    }
    this.timeFixed = outerFixed;
    s.currentClient = prevClient;
    if (silent && !(spec.name === 'client|reply' && c.replyMode === 'on')) {
      // CLIENT REPLY OFF/SKIP: drop what this command wrote, except (un)subscribe confirmations (Redis's CLIENT_PUSHING).
      if (!SUBSCRIPTION_COMMANDS.has(spec.name)) c.reply.truncate(outBefore);
      if (c.replyMode === 'skip') c.replyMode = 'on';
    }
    const end = performance.now();
    const micros = Math.floor((end - start) * 1000);
    const st = this.statFor(spec);
    st.calls++;
    st.usec += micros;
    if (this.latencyTracking) (st.hist ??= new LatencyHistogram()).record(micros);
    // Redis's call(): a command at or over latency-monitor-threshold is a "command" or "fast-command" latency event.
    if (this.latencyThresholdUs > 0 && micros >= this.latencyThresholdUs && !blockReq) {
      s.latency.add((flagBits(spec) & F_FAST) !== 0 ? 'fast-command' : 'command', Math.floor(micros / 1000));
    }
    if (s.stats.total_error_replies > errorsBefore) st.failed++;
    s.stats.total_commands_processed++;
    if (blockReq) {
      if (s.multi.inExec) blockReq.onTimeout(c.reply);
      else s.blocked.block(c, spec, argv, blockReq);
    }
    this.afterCall(c, spec, argv, ctx, mod, micros);
    this.contextPool.push(ctx);
    // Client-side caching: what a tracking client read is remembered (redirected invalidations follow its reply).
    if (c.tracking !== null && (flagBits(spec) & F_READONLY) !== 0) s.tracking.remember(c, commandKeys(spec, argv));
    if (top) s.propagation.endUnit(spec.name);
    if (top && s.tracking.inUse) s.tracking.afterCommand(c, spec.name === 'client' || spec.name.startsWith('client|'));
    if (s.currentClient === null && this.batchDepth === 1) {
      this.lastStamp = end;
      this.stampFresh = true;
    }
  }

  /** Retries a blocked client's command for a key signalled ready, as its own execution unit; true when served. */
  serveBlocked(cl: Client, b: BlockedState, readyKey: string): boolean {
    const s = this.server;
    const ctx = new Context(s, cl);
    const mod = s.modCount;
    let served: boolean;
    const prevClient = s.currentClient;
    s.currentClient = cl;
    s.propagation.beginUnit();
    try {
      served = b.req.retry(ctx, readyKey);
    } catch (e) {
      // A failing retry must not take the server down: the client gets the error and is released.
      cl.reply.error(`ERR ${(e as Error).message}`);
      s.log('warning', `Internal error serving blocked '${b.spec.name}': ${(e as Error).stack ?? e}`);
      served = true;
    } finally {
      s.currentClient = prevClient;
    }
    if (!served) {
      s.propagation.endUnit(b.spec.name);
      return false;
    }
    s.blocked.unblock(cl);
    this.afterCall(cl, b.spec, b.argv, ctx, mod, 0);
    s.propagation.endUnit(b.spec.name);
    return true;
  }

  private afterCall(c: Client, spec: CommandSpec, argv: string[], ctx: Context, mod: number, micros: number): void {
    const s = this.server;
    if (ctx.suppress) {
      // noPropagate only stops propagation; the call still shows in SLOWLOG and MONITOR.
    } else if (ctx.replaced !== null) {
      for (const a of ctx.replaced) this.propagate(ctx.dbAtStart, a);
    } else if (s.modCount !== mod && flagBits(spec) & (F_WRITE | F_MAYREP)) {
      this.propagate(ctx.dbAtStart, argv);
    }
    if (micros >= this.slowlogThreshold && this.slowlogThreshold >= 0 && !(flagBits(spec) & F_SKIPSLOW)) {
      s.slowlogLog.push(c, argv, micros, s.config.getNumber('slowlog-max-len'));
    }
    if (s.monitors.size > 0 && !(flagBits(spec) & (F_SKIPMON | F_ADMIN))) feedMonitors(s.monitors, c, argv, ctx.dbAtStart);
    const after = s.modeHooks.afterCommand;
    if (after.length !== 0) {
      const call: CommandCall = { client: c, spec, argv };
      for (let i = 0; i < after.length; i++) after[i](call, micros);
    }
  }

  /** A command's change: counted for rdb_changes_since_last_save, then queued for its unit. */
  private propagate(dbIndex: number, argv: string[]): void {
    this.server.stats.dirty++;
    this.server.propagation.queue(dbIndex, argv);
  }

  /** Unix ms for key expiry and access clocks: fixed while a command runs (nested ones too), else the real time. */
  now(): number {
    return this.timeFixed ? this.cmdNow : Date.now();
  }
}
