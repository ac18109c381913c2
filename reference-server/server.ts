/**
 * The server: listeners, the client table, command dispatch (the one place that applies Redis's
 * processCommand rules), blocking, pub/sub, WATCH, MONITOR, SLOWLOG, CLIENT PAUSE and the 100 ms cron.
 *
 * Propagation rules (for replication/): after a command runs, the server calls
 * replication.propagate(dbIndex, argv) once per argv, in order, where the argvs are
 *   - what the command passed to ctx.propagateAs(...), if it called it (even if nothing changed), else
 *   - the command's own argv, if the command has the 'write' or 'may_replicate' flag and at least one key
 *     was modified during the call (Db hooks -> keyModified), else nothing;
 *   - nothing at all if the command called ctx.noPropagate().
 * A served blocked command follows the same rules for its retry() call. Keys removed by lazy or active expiry
 * are propagated as DEL before the command's own argvs (keyExpired). As in Redis 7.0 (propagatePendingCommands),
 * what one execution unit (a client's top-level command, EXEC with its queue, a served blocked command) propagates
 * is collected and sent at its end, wrapped in MULTI/EXEC when it is more than one command (never for SCAN and
 * RANDOMKEY); MULTI takes the first command's db and EXEC the last's. SELECT is never sent by the server: dbIndex
 * is passed and replication/ emits SELECT when the db changes.
 */
import net from 'node:net';
// Imported, not the global: the global is an accessor, looked up again on every call.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, unlinkSync, writeFileSync } from 'node:fs';
import type {
  BlockRequest, ClientState, CommandContext, CommandSpec, Db, PersistenceHooks, ReplicationHooks, ServerApi,
} from './commands/command.js';
import { adoptAccepted, Client, type ClientHost } from './connection.js';
import { LatencyMonitor } from './latency-monitor.js';
import { LatencyHistogram } from './latency-histogram.js';
import { Tracking, type TrackingHost } from './tracking.js';
import { commandKeys } from './commands/server.js';
import { MemoryLimit, OOM_ERROR, type EvictionHost, type EvictionPolicy } from './maxmemory.js';
import { valueSize } from './commands/memory.js';
import type { Value } from './store/types.js';
import { ProtocolError } from './resp/parser.js';
import { REDIS_VERSION, type Config } from './config/config.js';
import { globMatch } from './glob.js';
import { KeyspaceDb } from './store/db.js';
import { parseMemory } from './config/directives.js';
import { keyspaceEventsToFlags, NOTIFY_EVICTED, NOTIFY_EXPIRED, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_NEW } from './config/keyspace-events.js';
import { reprString } from './resp/splitargs.js';
import { ReplyBuffer } from './resp/writer.js';

export { REDIS_VERSION };

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';
const LEVELS: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const LEVEL_CHAR: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Their replies are pub/sub pushes, which CLIENT REPLY OFF does not silence. */
const SUBSCRIPTION_COMMANDS = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);
/** Commands allowed in a RESP2 subscribed context. */
const PUBSUB_ALLOWED = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);
/** Commands executed immediately inside MULTI instead of being queued. */
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** Flag bits precomputed per spec, so the hot path tests bits instead of scanning flag arrays. */
const F_WRITE = 1, F_MAYREP = 2, F_PROTECTED = 4, F_NOAUTH = 8, F_NOMULTI = 16, F_SKIPSLOW = 32, F_SKIPMON = 64, F_ADMIN = 128, F_DENYOOM = 256, F_FAST = 512, F_READONLY = 1024;
const flagCache = new WeakMap<CommandSpec, number>();
let lastBitsSpec: CommandSpec | null = null;
let lastBits = 0;
function bits(spec: CommandSpec): number {
  if (spec === lastBitsSpec) return lastBits;
  let b = flagCache.get(spec);
  if (b === undefined) {
    const f = spec.flags;
    b = (f.includes('write') ? F_WRITE : 0) | (f.includes('may_replicate') ? F_MAYREP : 0) | (f.includes('protected') ? F_PROTECTED : 0) |
      (f.includes('no_auth') ? F_NOAUTH : 0) | (f.includes('no_multi') ? F_NOMULTI : 0) | (f.includes('skip_slowlog') ? F_SKIPSLOW : 0) |
      (f.includes('skip_monitor') ? F_SKIPMON : 0) | (f.includes('admin') ? F_ADMIN : 0) | (f.includes('denyoom') ? F_DENYOOM : 0) |
      (f.includes('fast') ? F_FAST : 0) | (f.includes('readonly') ? F_READONLY : 0);
    flagCache.set(spec, b);
  }
  lastBitsSpec = spec;
  lastBits = b;
  return b;
}

export interface SlowlogEntry {
  id: number;
  time: number;
  micros: number;
  argv: string[];
  addr: string;
  name: string;
}

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  /** Latency histogram for INFO latencystats and LATENCY HISTOGRAM, created at the first sample. */
  hist: LatencyHistogram | null;
}

/** commandStats: counts clears so the dispatcher's cached stat entry is dropped on CONFIG RESETSTAT. */
class StatMap extends Map<string, CommandStat> {
  epoch = 0;
  override clear(): void {
    this.epoch++;
    super.clear();
  }
  override delete(k: string): boolean {
    this.epoch++;
    return super.delete(k);
  }
}

/** What the server needs to create a database; the default adapts store/db.ts. */
export type DbFactory = (index: number, server: RedisServer) => Db;

export interface ServerOptions {
  config: Config;
  createDb: DbFactory;
  commands: Map<string, CommandSpec>;
  /** Mode shown by INFO/HELLO ('standalone' unless cluster/sentinel code says otherwise). */
  mode?: 'standalone' | 'cluster' | 'sentinel';
}

export function defaultReplicationHooks(server: RedisServer): ReplicationHooks {
  const replid = randomBytes(20).toString('hex');
  return {
    role: () => 'master',
    propagate: () => {},
    writeRefusal: () => undefined,
    staleRefusal: () => undefined,
    infoLines: () => [
      'role:master',
      'connected_slaves:0',
      'master_failover_state:no-failover',
      `master_replid:${replid}`,
      'master_replid2:0000000000000000000000000000000000000000',
      'master_repl_offset:0',
      'second_repl_offset:-1',
      'repl_backlog_active:0',
      `repl_backlog_size:${server.config.get('repl-backlog-size') ?? '1048576'}`,
      'repl_backlog_first_byte_offset:0',
      'repl_backlog_histlen:0',
    ],
    cron: () => {},
    shutdown: () => {},
  };
}

export function defaultPersistenceHooks(server: RedisServer): PersistenceHooks {
  let lastSave = Math.floor(Date.now() / 1000);
  return {
    infoLines: () => [
      'loading:0', 'async_loading:0', 'current_cow_peak:0', 'current_cow_size:0', 'current_cow_size_age:0',
      'current_fork_perc:0.00', 'current_save_keys_processed:0', 'current_save_keys_total:0',
      `rdb_changes_since_last_save:${server.stats.dirty}`, 'rdb_bgsave_in_progress:0', `rdb_last_save_time:${lastSave}`,
      'rdb_last_bgsave_status:ok', 'rdb_last_bgsave_time_sec:-1', 'rdb_current_bgsave_time_sec:-1', 'rdb_saves:0',
      'rdb_last_cow_size:0', 'rdb_last_load_keys_expired:0', 'rdb_last_load_keys_loaded:0',
      `aof_enabled:${server.config.getBool('appendonly') ? 1 : 0}`, 'aof_rewrite_in_progress:0', 'aof_rewrite_scheduled:0',
      'aof_last_rewrite_time_sec:-1', 'aof_current_rewrite_time_sec:-1', 'aof_last_bgrewrite_status:ok', 'aof_rewrites:0',
      'aof_rewrites_consecutive_failures:0', 'aof_last_write_status:ok', 'aof_last_cow_size:0', 'module_fork_in_progress:0',
      'module_fork_last_cow_size:0',
    ],
    lastSave: () => lastSave,
    save: () => {
      // Without replication/rdb installed there is nothing to write; record the save like Redis would.
      lastSave = Math.floor(Date.now() / 1000);
      server.stats.dirty = 0;
    },
    cron: () => {},
  };
}

export class RedisServer implements ServerApi, ClientHost, EvictionHost, TrackingHost {
  readonly startedAt = Date.now();
  readonly runId = randomBytes(20).toString('hex');
  readonly dbs: Db[] = [];
  /** maxmemory and eviction (checked before each command while a limit is set). */
  readonly memory: MemoryLimit = new MemoryLimit(this);
  /** CLIENT TRACKING's key table and broadcast prefixes. */
  readonly tracking: Tracking = new Tracking(this);
  /** LATENCY's event samples (latency-monitor-threshold). */
  readonly latency = new LatencyMonitor();
  readonly config: Config;
  replication: ReplicationHooks;
  persistence: PersistenceHooks;
  readonly stats: Record<string, number> = {
    total_connections_received: 0, total_commands_processed: 0, rejected_connections: 0, expired_keys: 0,
    evicted_keys: 0, keyspace_hits: 0, keyspace_misses: 0, total_net_input_bytes: 0, total_net_output_bytes: 0,
    total_error_replies: 0, dirty: 0, expired_stale_perc: 0, sync_full: 0, sync_partial_ok: 0, sync_partial_err: 0,
    unexpected_error_replies: 0, total_reads_processed: 0, total_writes_processed: 0, pubsub_channels: 0,
  };
  readonly commands: Map<string, CommandSpec>;
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  readonly clients = new Map<number, Client>();
  readonly commandStats: Map<string, CommandStat> = new StatMap();
  readonly errorStats = new Map<string, number>();
  readonly slowlog: SlowlogEntry[] = [];
  slowlogNextId = 0;
  readonly monitors = new Set<Client>();
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  /** CLIENT PAUSE: until (ms) and whether only writes are paused. */
  pauseUntil = 0;
  pauseWritesOnly = false;
  /** Set by the shutdown path; the bin exits when it resolves. */
  shuttingDown = false;
  /** Extra sections for INFO, added by other modules (cluster, sentinel): name -> lines. */
  readonly extraInfo = new Map<string, () => string[]>();
  /** Called on SHUTDOWN / signals after cleanup; bin sets it to process.exit. */
  onExit: (code: number) => void = () => {};
  tcpPort = 0;
  /** Highest used_memory INFO has shown. */
  memoryPeak = 0;
  /** DEBUG SET-ACTIVE-EXPIRE 0 turns the cron's expiry cycle off. */
  activeExpire = true;

  readonly net = { in: 0, out: 0 };
  /** Hard limits of client-output-buffer-limit per class. */
  private outLimits = { normal: 0, replica: 256 * 1024 * 1024, pubsub: 32 * 1024 * 1024 };
  private listeners: net.Server[] = [];
  private nextClientId = 1;
  private blockingKeys = new Map<string, Client[]>();
  private readyKeys: string[] = [];
  private readyKeySet = new Set<string>();
  private watchedKeys = new Map<string, Set<Client>>();
  /** Per client, the watched "db\0key"s that were already expired when WATCHed (Redis's watchedKey.expired). */
  private staleWatches = new Map<Client, Set<string>>();
  private modCount = 0;
  private cronTimer: NodeJS.Timeout | null = null;
  private logLevel: number;
  /** Hot-path copies of config values, kept current by a change listener. */
  private slowlogThreshold: number;
  private queryBufferLimit: number;
  private protoMaxBulkLen: number;
  private latencyTracking: boolean;
  private latencyThresholdUs: number;
  private hzCount = 0;
  private inExec = false;
  /** The client whose command is running (replicas let their master's stream see expired keys). */
  currentClient: Client | null = null;
  /** Open execution units; while > 0, propagation is collected (first command kept apart: most units have one). */
  private unitDepth = 0;
  private pendDb = 0;
  private pendArgv: string[] | null = null;
  private pendMore: { db: number; argv: string[] }[] | null = null;
  /** Command names as clients spell them (e.g. upper case) -> spec. */
  private lookupCache = new Map<string, CommandSpec>();
  /** The last name looked up and its spec: clients repeat commands, and the parser reuses the name string. */
  private lastLookupName = '';
  private lastLookupSpec: CommandSpec | undefined = undefined;
  /** The last spec's stat entry (valid while commandStats' epoch is unchanged). */
  private readonly contextPool: Context[] = [];
  private lastStatSpec: CommandSpec | null = null;
  private lastStat: CommandStat | null = null;
  private lastStatEpoch = -1;
  /** Wall clock (ms) and performance.now() read together at a batch's start: later commands derive the time. */
  private batchWall = 0;
  private batchPerf = 0;
  /**
   * End time of the previous command in the current read batch: the next command's start, so each command
   * costs one clock read. Only valid (stampFresh) inside processClient's loop.
   */
  /** Unix ms fixed for the running command (Redis 7.0 caches the time in call() for expiry checks). */
  private cmdNow = 0;
  private timeFixed = false;
  private lastStamp = 0;
  private stampFresh = false;
  private batchDepth = 0;

  constructor(opts: ServerOptions) {
    this.config = opts.config;
    this.commands = opts.commands;
    this.mode = opts.mode ?? (opts.config.getBool('cluster-enabled') ? 'cluster' : 'standalone');
    this.replication = defaultReplicationHooks(this);
    this.persistence = defaultPersistenceHooks(this);
    this.logLevel = LEVELS[(this.config.get('loglevel') ?? 'notice') as LogLevel] ?? 2;
    this.slowlogThreshold = this.config.getNumber('slowlog-log-slower-than');
    this.queryBufferLimit = this.config.getNumber('client-query-buffer-limit');
    this.protoMaxBulkLen = this.config.getNumber('proto-max-bulk-len');
    this.latencyTracking = this.config.getBool('latency-tracking');
    this.latencyThresholdUs = this.config.getNumber('latency-monitor-threshold') * 1000;
    this.parseOutputLimits(this.config.get('client-output-buffer-limit') ?? '');
    this.applyMemoryConfig();
    this.tracking.maxKeys = this.config.getNumber('tracking-table-max-keys');
    this.config.onChange((name, value) => {
      if (name === 'tracking-table-max-keys') this.tracking.maxKeys = Number(value);
      if (name === 'maxmemory' || name === 'maxmemory-policy' || name === 'maxmemory-samples') this.applyMemoryConfig();
      // CONFIG SET maxmemory evicts at once, as updateMaxmemory's performEvictions does (the "evicted" events follow it).
      if (name === 'maxmemory' && this.memory.limit > 0 && !this.clientsPaused()) this.memory.ensure();
      if (name === 'notify-keyspace-events') this.applyKeyspaceEvents(value);
      if (name === 'client-output-buffer-limit') this.parseOutputLimits(value);
      if (name === 'loglevel') this.logLevel = LEVELS[value as LogLevel];
      if (name === 'slowlog-log-slower-than') this.slowlogThreshold = Number(value);
      if (name === 'client-query-buffer-limit') this.queryBufferLimit = Number(value);
      if (name === 'proto-max-bulk-len') this.protoMaxBulkLen = Number(value);
      if (name === 'latency-tracking') this.latencyTracking = value === 'yes';
      if (name === 'latency-monitor-threshold') this.latencyThresholdUs = Number(value) * 1000;
      if (name === 'requirepass' && value === '') for (const c of this.clients.values()) c.authenticated = true;
    });
    const n = this.config.getNumber('databases');
    for (let i = 0; i < n; i++) this.dbs.push(opts.createDb(i, this));
    this.applyKeyspaceEvents(this.config.get('notify-keyspace-events') ?? '');
  }

  private applyMemoryConfig(): void {
    const policy = (this.config.get('maxmemory-policy') ?? 'noeviction') as EvictionPolicy;
    this.memory.configure(this.config.getNumber('maxmemory'), policy, this.config.getNumber('maxmemory-samples'));
  }

  ignoresMaxmemory(): boolean {
    return this.replication.role() === 'replica' && this.config.getBool('replica-ignore-maxmemory');
  }

  /** A key evicted for maxmemory: counted, and propagated as its own DEL as Redis 7.0 does. */
  evictKey(db: Db, key: string): void {
    if (!db.delete(key)) return;
    // The deletion was reported as a modification; it must not make the command about to run look like a write.
    this.modCount--;
    this.stats.evicted_keys++;
    this.notifyKeyspaceEvent(NOTIFY_EVICTED, 'evicted', key, db.index);
    if (this.replication.role() === 'master') this.queuePropagation(db.index, ['DEL', key]);
  }

  sizeOf(key: string, value: Value): number {
    return key.length + 56 + valueSize(value, this.config.getNumber('maxmemory-samples'));
  }

  private parseOutputLimits(v: string): void {
    const parts = v.trim().split(/\s+/);
    for (let i = 0; i + 3 < parts.length; i += 4) {
      const cls = parts[i].toLowerCase();
      const hard = parseMemory(parts[i + 1]) ?? 0;
      if (cls === 'normal') this.outLimits.normal = hard;
      else if (cls === 'replica' || cls === 'slave') this.outLimits.replica = hard;
      else if (cls === 'pubsub') this.outLimits.pubsub = hard;
    }
  }

  outputLimit(c: Client): number {
    if (c.kind === 'master') return 0;
    return c.kind === 'replica' ? this.outLimits.replica : c.kind === 'pubsub' ? this.outLimits.pubsub : this.outLimits.normal;
  }

  // ---- logging ----

  log(level: LogLevel, msg: string): void {
    if (LEVELS[level] < this.logLevel) return;
    this.writeLog(level, msg);
  }

  private writeLog(level: LogLevel, msg: string): void {
    const d = new Date();
    const role = this.mode === 'sentinel' ? 'X' : this.replication.role() === 'replica' ? 'S' : 'M';
    const p2 = (v: number) => String(v).padStart(2, '0');
    const line = `${process.pid}:${role} ${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
      `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')} ` +
      `${LEVEL_CHAR[level]} ${msg}\n`;
    const file = this.config.get('logfile') ?? '';
    if (file === '') process.stdout.write(line);
    else {
      try {
        appendFileSync(file, line);
      } catch {
        process.stdout.write(line);
      }
    }
  }

  // ---- lifecycle ----

  /** Binds every configured address; rejects with Redis's failure line when the port is taken. */
  async listen(): Promise<void> {
    const port = this.config.getNumber('port');
    this.tcpPort = port;
    if (port !== 0) {
      const binds = (this.config.get('bind') ?? '* -::*').split(/\s+/).filter((b) => b !== '');
      for (const b of binds) {
        const optional = b.startsWith('-');
        const addr = optional ? b.slice(1) : b;
        const host = addr === '*' ? '0.0.0.0' : addr === '::*' ? '::' : addr;
        try {
          const srv = await this.listenOne(host, port, host === '::');
          this.listeners.push(srv);
          if (port === 0) this.tcpPort = (srv.address() as net.AddressInfo).port;
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
          this.log('warning', `Warning: Could not create server TCP listening socket ${addr}:${port}: bind: ${err.code === 'EADDRINUSE' ? 'Address already in use' : err.message}`);
          for (const l of this.listeners) l.close();
          this.listeners = [];
          this.log('warning', `Failed listening on port ${port} (TCP), aborting.`);
          throw new Error(`Failed listening on port ${port} (TCP), aborting.`);
        }
      }
    }
    const unixsocket = this.config.get('unixsocket') ?? '';
    if (unixsocket !== '') await this.listenUnix(unixsocket);
    this.cronTimer = setInterval(() => this.cron(), 100);
    this.cronTimer.unref?.();
  }

  /** The unixsocket listener (a stale socket file from an earlier run is replaced, as Redis does). */
  private async listenUnix(path: string): Promise<void> {
    try {
      unlinkSync(path);
    } catch {
      // Nothing there yet.
    }
    try {
      const srv = await new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer({ pauseOnConnect: true }, (sock) => this.accept(sock));
        server.once('error', reject);
        server.listen({ path, backlog: this.config.getNumber('tcp-backlog') }, () => {
          server.removeListener('error', reject);
          server.on('error', (e) => this.log('warning', `Accept error: ${e.message}`));
          resolve(server);
        });
      });
      this.listeners.push(srv);
      const perm = parseInt(this.config.get('unixsocketperm') ?? '0', 8);
      if (perm > 0) chmodSync(path, perm);
      this.log('notice', `The server is now ready to accept connections at ${path}`);
    } catch (e) {
      this.log('warning', `Failed opening Unix socket: ${(e as Error).message}`);
      for (const l of this.listeners) l.close();
      this.listeners = [];
      throw new Error(`Failed opening Unix socket: ${(e as Error).message}`);
    }
  }

  private listenOne(host: string, port: number, ipv6Only: boolean): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      // Paused on connect: accept() rebuilds the socket to read into the shared buffer before any read happens.
      const srv = net.createServer({ pauseOnConnect: true }, (sock) => this.accept(sock));
      srv.once('error', reject);
      srv.listen({ host, port, ipv6Only, backlog: this.config.getNumber('tcp-backlog') }, () => {
        srv.removeListener('error', reject);
        srv.on('error', (e) => this.log('warning', `Accept error: ${e.message}`));
        resolve(srv);
      });
    });
  }

  /** Logs the startup lines as redis-server does. */
  logStartup(): void {
    this.writeLog('warning', 'oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo');
    this.writeLog('warning', `Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${process.pid}, just started`);
    this.writeLog('warning', 'Configuration loaded');
    this.writeLog('notice', `Redis-compatible reference server (TypeScript) PID: ${process.pid}`);
    this.writeLog('notice', `Running mode=${this.mode}, port=${this.config.getNumber('port')}.`);
    this.writeLog('warning', 'Server initialized');
  }

  logReady(): void {
    this.writeLog('notice', 'Ready to accept connections');
  }

  writePidfile(): void {
    const pidfile = this.config.get('pidfile') ?? '';
    if (pidfile !== '') {
      try {
        writeFileSync(pidfile, `${process.pid}\n`);
      } catch (e) {
        this.log('warning', `Failed to write PID file: ${(e as Error).message}`);
      }
    }
  }

  /** Redis's prepareForShutdown: save if configured (or asked), remove the pidfile, close everything. */
  shutdown(opts: { save?: boolean; nosave?: boolean; signal?: string } = {}): string | undefined {
    if (opts.signal) this.writeLog('warning', `Received ${opts.signal} scheduling shutdown...`);
    this.writeLog('warning', 'User requested shutdown...');
    const saveConfigured = (this.config.get('save') ?? '') !== '';
    if (!opts.nosave && (opts.save || saveConfigured)) {
      this.writeLog('notice', 'Saving the final RDB snapshot before exiting.');
      try {
        this.persistence.save();
        this.writeLog('notice', 'DB saved on disk');
      } catch (e) {
        this.writeLog('warning', `Error trying to save the DB, can't exit.`);
        if (!opts.signal) return 'ERR Errors trying to SHUTDOWN. Check logs.';
      }
    }
    const pidfile = this.config.get('pidfile') ?? '';
    if (pidfile !== '') {
      this.writeLog('notice', 'Removing the pid file.');
      try {
        unlinkSync(pidfile);
      } catch {
        // Already gone: nothing to remove.
      }
    }
    this.shuttingDown = true;
    // close() flushes the replication stream (replication.shutdown) and ends replica sockets gracefully; the exit waits for them.
    const replicaSockets = [...this.clients.values()].filter((c) => c.kind === 'replica' && c.socket !== null).map((c) => c.socket as net.Socket);
    this.close();
    this.writeLog('warning', 'Redis is now ready to exit, bye bye...');
    const pending = replicaSockets.filter((s) => !s.destroyed);
    if (pending.length === 0) {
      this.onExit(0);
      return undefined;
    }
    // Exit once every replica socket has written its queue (process.exit would drop it), or after 2 s.
    let left = pending.length;
    let exited = false;
    const exit = (): void => {
      if (exited) return;
      exited = true;
      clearTimeout(cap);
      this.onExit(0);
    };
    const cap = setTimeout(exit, 2000);
    for (const sock of pending) sock.once('close', () => { if (--left === 0) exit(); });
    return undefined;
  }

  /** Stops listening, drops every client and the cron (tests call this directly). */
  close(): void {
    this.memory.close();
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    try {
      this.replication.shutdown();
    } catch {
      // Shutdown continues even if replication cleanup fails.
    }
    for (const l of this.listeners) l.close();
    this.listeners = [];
    for (const c of [...this.clients.values()]) {
      c.flush();
      // A replica's socket ends gracefully so the stream already queued for it is still delivered.
      c.destroy(c.kind === 'replica');
    }
  }

  // ---- clients ----

  private accept(accepted: net.Socket): void {
    let client: Client | null = null;
    // A rejected connection's reads (until it closes) are dropped.
    const sock = adoptAccepted(accepted, (n, buf) => { if (client !== null) client.onSharedRead(n, buf); });
    client = this.admit(sock);
  }

  /** Applies maxclients and protected mode to a new connection; the client, or null when it was refused. */
  private admit(sock: net.Socket): Client | null {
    this.stats.total_connections_received++;
    const remote = sock.remoteAddress ?? '';
    // A unixsocket client has no address; Redis names it after the socket's path and never refuses it as remote.
    const unix = sock.remoteAddress === undefined;
    const addr = unix ? `${this.config.get('unixsocket') ?? ''}:0` : formatAddr(remote, sock.remotePort ?? 0);
    const laddr = unix ? addr : formatAddr(sock.localAddress ?? '', sock.localPort ?? 0);
    const maxclients = this.config.getNumber('maxclients');
    if (this.clients.size >= maxclients) {
      this.stats.rejected_connections++;
      sock.end('-ERR max number of clients reached\r\n');
      return null;
    }
    const requirePass = (this.config.get('requirepass') ?? '') !== '';
    if (this.config.get('protected-mode') === 'yes' && !requirePass && !unix && !isLoopback(remote)) {
      this.stats.rejected_connections++;
      sock.end('-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. 3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n');
      return null;
    }
    const keepalive = this.config.getNumber('tcp-keepalive');
    // Like Redis's tcp-keepalive: dead peers (partitions, crashed hosts) are eventually detected.
    if (keepalive > 0) sock.setKeepAlive(true, keepalive * 1000);
    return this.addClient(sock, addr, laddr, requirePass, true);
  }

  /** Registers a client for a socket (replication uses it for the link to its master). */
  addClient(sock: net.Socket | null, addr: string, laddr: string, requirePass = false, sharedReads = false): Client {
    const c = new Client(this.nextClientId++, sock, addr, laddr, this, this.config.getNumber('proto-max-bulk-len'), requirePass, sharedReads);
    c.reply.onError = (msg) => this.countError(msg);
    this.clients.set(c.id, c);
    return c;
  }

  clientById(id: number): Client | undefined {
    return this.clients.get(id);
  }

  allClients(): Iterable<Client> {
    return this.clients.values();
  }

  clientClosed(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    if (c.tracking !== null) this.tracking.disable(c);
    this.unblock(c);
    this.unwatchAll(c);
    for (const ch of c.channels) this.removeSub(this.channels, ch, c);
    for (const p of c.patterns) this.removeSub(this.patterns, p, c);
    c.channels.clear();
    c.patterns.clear();
    this.monitors.delete(c);
  }

  private countError(msg: string): void {
    this.stats.total_error_replies++;
    const sp = msg.indexOf(' ');
    const prefix = sp < 0 ? msg : msg.slice(0, sp);
    this.errorStats.set(prefix, (this.errorStats.get(prefix) ?? 0) + 1);
  }

  /** Parses and runs every complete command buffered for the client (called once per socket read). */
  processClient(c: Client): void {
    if (c.blocked || c.paused) return;
    this.stats.total_reads_processed++;
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
        this.log('verbose', `Protocol error (${e.message}) from client: id=${c.id} addr=${c.addr} laddr=${c.laddr}. `);
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
      if (this.readyKeys.length > 0) {
        this.stampFresh = false;
        this.handleReadyKeys();
      }
    }
    if (!c.closing && c.kind !== 'master' && c.parser.buffered > this.queryBufferLimit) {
      this.log('warning', `Closing client that reached max query buffer length: id=${c.id} addr=${c.addr} (qbuf initial bytes: ...)`);
      c.close(false);
    }
  }

  /**
   * A command on a replica's link: replicas only send REPLCONF, so one that touches the keyspace is refused and any
   * reply at all ends the link (Redis's "Replica generated a reply"); true when the replica was disconnected.
   */
  private replicaCommand(c: Client, argv: string[]): boolean {
    const spec = this.lookup(argv[0]);
    const sub = spec !== undefined && argv.length > 1 ? spec.subcommands?.find((x) => x.name === `${spec.name}|${argv[1].toLowerCase()}`) : undefined;
    const name = (sub ?? spec)?.name ?? '<unknown>';
    const before = c.reply.len;
    const errors = this.stats.total_error_replies;
    if (spec !== undefined && (bits(spec) & (F_WRITE | F_MAYREP) || spec.flags.includes('readonly'))) {
      this.reject(c, "ERR Replica can't interact with the keyspace", spec);
    } else {
      this.processCommand(c, argv);
    }
    if (c.closed || c.reply.len === before) return false;
    if (this.stats.total_error_replies !== errors) {
      const at = c.reply.out.lastIndexOf('\r\n-', c.reply.out.length - 3);
      const text = c.reply.out.slice(at === -1 ? 1 : at + 3).split('\r\n')[0];
      this.log('warning', `== CRITICAL == This master is sending an error to its replica: '${text}' after processing the command '${name}'`);
      this.stats.unexpected_error_replies++;
    }
    this.log('warning', `Replica generated a reply to command '${name}', disconnecting it: id=${c.id} addr=${c.addr} laddr=${c.laddr} name=${c.name ?? ''} flags=S`);
    // What was queued before (the FULLRESYNC line, stream bytes) still goes out; the reply never does.
    c.reply.truncate(before);
    c.close(true);
    return true;
  }

  lookup(name: string): CommandSpec | undefined {
    if (name === this.lastLookupName) return this.lastLookupSpec;
    const spec = this.commands.get(name) ?? this.lookupCache.get(name);
    if (spec !== undefined) {
      this.lastLookupName = name;
      this.lastLookupSpec = spec;
      return spec;
    }
    const found = this.commands.get(name.toLowerCase());
    // Clients send names in upper case; remember those spellings (bounded, so junk names cannot grow it).
    if (found !== undefined && this.lookupCache.size < 4096) this.lookupCache.set(name, found);
    return found;
  }

  /** Redis's processCommand: every refusal rule, then MULTI queueing or execution. */
  processCommand(c: Client, argv: string[]): void {
    const reply = c.reply;
    let spec = this.lookup(argv[0]);
    if (spec !== undefined && spec.subcommands !== undefined && argv.length >= 2) {
      const sub = argv[1].toLowerCase();
      const found = spec.subcommands.find((s) => s.name.slice(s.name.indexOf('|') + 1) === sub);
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
    const fb = bits(spec);
    if (fb & F_PROTECTED) {
      const allow = spec.name === 'debug' ? this.config.get('enable-debug-command') : this.config.get('enable-module-command');
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
    if (this.memory.limit > 0 && c.kind !== 'master' && !this.clientsPaused() && !this.memory.ensure()) {
      // Over maxmemory with nothing to evict: what may grow memory is refused, and inside MULTI anything but
      // EXEC, DISCARD, QUIT and RESET (queuing grows memory too); an EXEC whose queue holds such a command aborts.
      const isExec = spec.name === 'exec';
      const queuing = c.inMulti && !isExec && spec.name !== 'discard' && spec.name !== 'quit' && spec.name !== 'reset';
      const execOfDenyoom = c.inMulti && isExec && c.multiQueue.some((q) => (bits(q.spec) & F_DENYOOM) !== 0);
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
    const execOfWrites = c.inMulti && spec.name === 'exec' && c.multiQueue.some((q) => (bits(q.spec) & F_WRITE) !== 0);
    const isWrite = (fb & F_WRITE) !== 0 || execOfWrites;
    if (isWrite && c.kind !== 'master') {
      const refusal = this.replication.writeRefusal(c);
      if (refusal !== undefined) {
        if (execOfWrites) this.abortExec(c, spec, refusal);
        else this.reject(c, refusal, spec);
        return;
      }
    }
    if (c.resp === 2 && c.kind === 'pubsub' && !PUBSUB_ALLOWED.has(spec.name)) {
      this.reject(c, `ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`, spec);
      return;
    }
    // EXEC is checked as its queue: one command that may not run on a stale replica refuses the whole transaction.
    const staleSpec = c.inMulti && spec.name === 'exec' ? c.multiQueue.find((q) => !q.spec.flags.includes('stale'))?.spec : spec;
    const stale = c.kind === 'master' || staleSpec === undefined ? undefined : this.replication.staleRefusal(c, staleSpec);
    if (stale !== undefined) {
      if (staleSpec !== spec) this.abortExec(c, spec, stale);
      else this.reject(c, stale, spec);
      return;
    }
    if (c.inMulti && !MULTI_IMMEDIATE.has(spec.name)) {
      c.multiQueue.push({ spec, argv });
      reply.simple('QUEUED');
      return;
    }
    if (this.pauseUntil > 0 && c.kind === 'normal' && (!this.pauseWritesOnly || isWrite || fb & F_MAYREP)) {
      if (Date.now() < this.pauseUntil) {
        c.paused = argv;
        return;
      }
      this.pauseUntil = 0;
    }
    this.call(c, spec, argv);
  }

  /** Redis's execCommandAbort: the transaction is discarded and EXEC answers with the reason. */
  private abortExec(c: Client, spec: CommandSpec, reason: string): void {
    this.statFor(spec).rejected++;
    this.discard(c);
    c.reply.error(`EXECABORT Transaction discarded because of: ${reason}`);
  }

  private reject(c: Client, msg: string, spec?: CommandSpec): void {
    if (c.inMulti) c.multiError = true;
    if (spec) this.statFor(spec).rejected++;
    c.reply.error(msg);
  }

  stat(name: string): CommandStat {
    let s = this.commandStats.get(name);
    if (!s) {
      s = { calls: 0, usec: 0, rejected: 0, failed: 0, hist: null };
      this.commandStats.set(name, s);
    }
    return s;
  }

  private statFor(spec: CommandSpec): CommandStat {
    const epoch = (this.commandStats as StatMap).epoch;
    if (spec === this.lastStatSpec && epoch === this.lastStatEpoch) return this.lastStat as CommandStat;
    const st = this.stat(spec.name);
    this.lastStatSpec = spec;
    this.lastStat = st;
    this.lastStatEpoch = epoch;
    return st;
  }

  /** Runs one command with its context, then slowlog, monitor and propagation bookkeeping. */
  call(c: Client, spec: CommandSpec, argv: string[]): void {
    // Contexts are reused (a stack, as EXEC and scripts nest calls): one less allocation per command.
    const ctx = this.contextPool.pop()?.reset(c) ?? new Context(this, c);
    const mod = this.modCount;
    const start = this.stampFresh ? this.lastStamp : performance.now();
    // Nested calls (EXEC's queue) take their own start time.
    this.stampFresh = false;
    const errorsBefore = this.stats.total_error_replies;
    const silent = c.replyMode !== 'on';
    const outBefore = c.reply.len;
    let blockReq: void | BlockRequest = undefined;
    c.lastCommand = spec.name;
    const prevClient = this.currentClient;
    const top = prevClient === null;
    if (top) this.unitDepth++;
    this.currentClient = c;
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
      this.log('warning', `Internal error in '${spec.name}': ${(e as Error).stack ?? e}`);
    }
    this.timeFixed = outerFixed;
    this.currentClient = prevClient;
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
      this.latency.add((bits(spec) & F_FAST) !== 0 ? 'fast-command' : 'command', Math.floor(micros / 1000));
    }
    if (this.stats.total_error_replies > errorsBefore) st.failed++;
    this.stats.total_commands_processed++;
    if (blockReq) {
      if (this.inExec) blockReq.onTimeout(c.reply);
      else this.block(c, spec, argv, blockReq);
    }
    this.afterCall(c, spec, argv, ctx, mod, micros);
    this.contextPool.push(ctx);
    // Client-side caching: what a tracking client read is remembered (redirected invalidations follow its reply).
    if (c.tracking !== null && (bits(spec) & F_READONLY) !== 0) this.tracking.remember(c, commandKeys(spec, argv));
    if (top) this.endUnit(spec.name);
    if (top && this.tracking.inUse) this.tracking.afterCommand(c, spec.name === 'client' || spec.name.startsWith('client|'));
    if (this.currentClient === null && this.batchDepth === 1) {
      this.lastStamp = end;
      this.stampFresh = true;
    }
  }

  private afterCall(c: Client, spec: CommandSpec, argv: string[], ctx: Context, mod: number, micros: number): void {
    if (ctx.suppress) {
      // noPropagate only stops propagation; the call still shows in SLOWLOG and MONITOR.
    } else if (ctx.replaced !== null) {
      for (const a of ctx.replaced) this.propagate(ctx.dbAtStart, a, ctx.dbAtStart);
    } else if (this.modCount !== mod && bits(spec) & (F_WRITE | F_MAYREP)) {
      this.propagate(ctx.dbAtStart, argv, ctx.dbAtStart);
    }
    if (micros >= this.slowlogThreshold && this.slowlogThreshold >= 0 && !(bits(spec) & F_SKIPSLOW)) this.slowlogPush(c, argv, micros);
    if (this.monitors.size > 0 && !(bits(spec) & (F_SKIPMON | F_ADMIN))) this.feedMonitors(c, argv, ctx.dbAtStart);
  }

  private propagate(dbIndex: number, argv: string[], _dbAtStart: number): void {
    this.stats.dirty++;
    this.queuePropagation(dbIndex, argv);
  }

  private queuePropagation(db: number, argv: string[]): void {
    if (this.unitDepth === 0) this.replication.propagate(db, argv);
    else if (this.pendArgv === null) {
      this.pendDb = db;
      this.pendArgv = argv;
    } else (this.pendMore ??= []).push({ db, argv });
  }

  /** Closes an execution unit; the outermost one sends what was collected (Redis 7.0's propagatePendingCommands). */
  private endUnit(command: string): void {
    if (--this.unitDepth > 0 || this.pendArgv === null) return;
    const first = this.pendArgv;
    const more = this.pendMore;
    this.pendArgv = null;
    this.pendMore = null;
    if (more === null) {
      this.replication.propagate(this.pendDb, first);
      return;
    }
    // SCAN and RANDOMKEY touch arbitrary keys: the DELs of what they found expired go out unwrapped, as Redis does.
    const wrap = command !== 'scan' && command !== 'randomkey';
    if (wrap) this.replication.propagate(this.pendDb, ['MULTI']);
    this.replication.propagate(this.pendDb, first);
    for (const op of more) this.replication.propagate(op.db, op.argv);
    if (wrap) this.replication.propagate(more[more.length - 1]!.db, ['EXEC']);
  }

  /** EXEC: runs the queue as one unit (one propagated MULTI/EXEC block). */
  exec(c: Client): void {
    const queue = c.multiQueue;
    c.multiQueue = [];
    c.inMulti = false;
    if (c.multiError) {
      c.multiError = false;
      this.unwatchAll(c);
      c.reply.error('EXECABORT Transaction discarded because of previous errors.');
      return;
    }
    if (c.dirtyCas || (c.watched.size > 0 && this.watchedKeyExpired(c))) {
      this.unwatchAll(c);
      c.reply.nullArray();
      return;
    }
    this.unwatchAll(c);
    c.reply.arrayHeader(queue.length);
    this.inExec = true;
    try {
      // No refusals here: Redis checks the queue's writes once, at EXEC (a REPLICAOF inside it does not stop later writes).
      for (const q of queue) this.call(c, q.spec, q.argv);
    } finally {
      this.inExec = false;
    }
  }

  discard(c: Client): void {
    c.multiQueue = [];
    c.inMulti = false;
    c.multiError = false;
    this.unwatchAll(c);
  }

  /** Unix ms for key expiry and access clocks: fixed while a command runs (nested ones too), else the real time. */
  now(): number {
    return this.timeFixed ? this.cmdNow : Date.now();
  }

  // ---- keyspace notifications from the Db ----

  /** A key changed (Db.signalModified / set / delete): invalidates WATCH and counts the change. */
  keyModified(dbIndex: number, key: string): void {
    if (this.tracking.inUse) this.tracking.invalidate(key, this.currentClient);
    this.modCount++;
    // A waiter's key is absent, so any write to it creates it (RENAME, MOVE, COPY, RESTORE, *STORE): Redis's dbAdd signal.
    if (this.blockingKeys.size !== 0) this.signalKeyReady(this.dbs[dbIndex]!, key);
    if (this.watchedKeys.size === 0) return;
    const k = dbIndex + '\0' + key;
    const set = this.watchedKeys.get(k);
    if (!set) return;
    for (const cl of set) {
      const stale = this.staleWatches.get(cl);
      if (stale !== undefined && stale.has(k)) {
        // Watched already expired: its deletion is no logical change. Redis 7.0 (touchWatchedKey) stops at
        // such a watcher when the key is written instead, leaving it and later watchers clean; so do we.
        if (!this.storedIn(dbIndex, key)) {
          stale.delete(k);
          continue;
        }
        break;
      }
      cl.dirtyCas = true;
    }
  }

  /** FLUSHDB/FLUSHALL: watchers of keys the db held are invalidated (touchAllWatchedKeysInDb). */
  dbFlushed(dbIndex: number): void {
    if (this.tracking.inUse) this.tracking.flushed();
    this.modCount++;
    this.touchAllWatched(dbIndex, null);
  }

  /** SWAPDB, before the contents move: each side's watchers see the other's keys. */
  dbSwapping(a: number, b: number): void {
    this.modCount++;
    this.touchAllWatched(a, b);
    this.touchAllWatched(b, a);
  }

  private storedIn(dbIndex: number, key: string): boolean {
    const db = this.dbs[dbIndex];
    return db instanceof KeyspaceDb ? db.stores(key) : db !== undefined && db.has(key);
  }

  private staleIn(dbIndex: number, key: string): boolean {
    const db = this.dbs[dbIndex];
    return db instanceof KeyspaceDb && db.isStale(key);
  }

  private touchAllWatched(emptied: number, replacedWith: number | null): void {
    if (this.watchedKeys.size === 0) return;
    const prefix = emptied + '\0';
    for (const [k, set] of this.watchedKeys) {
      if (!k.startsWith(prefix)) continue;
      const key = k.slice(prefix.length);
      const inEmptied = this.storedIn(emptied, key);
      const inReplacement = replacedWith !== null && this.storedIn(replacedWith, key);
      if (!inEmptied && !inReplacement) continue;
      for (const cl of set) {
        const stale = this.staleWatches.get(cl);
        if (stale !== undefined && stale.has(k)) {
          // Expired when watched: gone now, or replaced by another expired key, is no logical change.
          if (!inReplacement) {
            stale.delete(k);
            continue;
          }
          if (this.staleIn(replacedWith!, key)) continue;
        } else if (!inEmptied && this.staleIn(replacedWith!, key)) {
          // An absent key replaced by an expired one: still absent, but now watched as expired.
          this.staleWatchesOf(cl).add(k);
          continue;
        }
        cl.dirtyCas = true;
      }
    }
  }

  private staleWatchesOf(c: Client): Set<string> {
    let s = this.staleWatches.get(c);
    if (!s) {
      s = new Set();
      this.staleWatches.set(c, s);
    }
    return s;
  }

  /** EXEC fails when a key that was live at WATCH has expired since (isWatchedKeyExpired). */
  private watchedKeyExpired(c: Client): boolean {
    const stale = this.staleWatches.get(c);
    for (const k of c.watched) {
      if (stale !== undefined && stale.has(k)) continue;
      const i = k.indexOf('\0');
      if (this.staleIn(Number(k.slice(0, i)), k.slice(i + 1))) return true;
    }
    return false;
  }

  /** A key was removed by expiry: counted and propagated as DEL, as Redis 7.0 does. */
  keyExpired(dbIndex: number, key: string): void {
    this.stats.expired_keys++;
    this.notifyKeyspaceEvent(NOTIFY_EXPIRED, 'expired', key, dbIndex);
    // The Db reports an expiry as a modification first; it is propagated as its own DEL, so it must not make the
    // running command look like a write that changed something.
    this.modCount--;
    if (this.replication.role() === 'master') this.queuePropagation(dbIndex, ['DEL', key]);
  }

  watch(c: Client, key: string): void {
    const k = c.dbIndex + '\0' + key;
    if (c.watched.has(k)) return;
    c.watched.add(k);
    if (this.staleIn(c.dbIndex, key)) this.staleWatchesOf(c).add(k);
    let set = this.watchedKeys.get(k);
    if (!set) {
      set = new Set();
      this.watchedKeys.set(k, set);
    }
    set.add(c);
  }

  unwatchAll(c: Client): void {
    for (const k of c.watched) {
      const set = this.watchedKeys.get(k);
      if (set) {
        set.delete(c);
        if (set.size === 0) this.watchedKeys.delete(k);
      }
    }
    c.watched.clear();
    this.staleWatches.delete(c);
    c.dirtyCas = false;
  }

  // ---- blocking ----

  private block(c: Client, spec: CommandSpec, argv: string[], req: BlockRequest): void {
    c.blocked = { req, spec, argv, dbIndex: c.dbIndex, deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : 0 };
    for (const key of req.keys) {
      const k = c.dbIndex + '\0' + key;
      let list = this.blockingKeys.get(k);
      if (!list) {
        list = [];
        this.blockingKeys.set(k, list);
      }
      list.push(c);
    }
  }

  /** Removes the client from every wait list (served, timed out, killed or disconnected). */
  unblock(c: Client): void {
    const b = c.blocked;
    if (!b) return;
    c.blocked = null;
    for (const key of b.req.keys) {
      const k = b.dbIndex + '\0' + key;
      const list = this.blockingKeys.get(k);
      if (!list) continue;
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.blockingKeys.delete(k);
    }
  }

  signalKeyReady(db: Db, key: string): void {
    // Nobody blocked: no "db\0key" string to build and hash for every push.
    if (this.blockingKeys.size === 0) return;
    const k = db.index + '\0' + key;
    if (!this.blockingKeys.has(k) || this.readyKeySet.has(k)) return;
    this.readyKeySet.add(k);
    this.readyKeys.push(k);
  }

  signalBlockedKeysIn(db: Db): void {
    const prefix = db.index + '\0';
    // A waiter on a key that is absent stays blocked; one that expired is deleted (and DEL propagated) by the retry, as in Redis.
    for (const k of this.blockingKeys.keys()) if (k.startsWith(prefix)) this.signalKeyReady(db, k.slice(prefix.length));
  }

  /** Serves clients blocked on keys signalled ready, FIFO per key, in the same tick as the write. */
  handleReadyKeys(): void {
    if (this.readyKeys.length === 0) return;
    const resumed: Client[] = [];
    while (this.readyKeys.length > 0) {
      const k = this.readyKeys.shift() as string;
      this.readyKeySet.delete(k);
      const list = this.blockingKeys.get(k);
      if (!list) continue;
      for (const cl of [...list]) {
        const b = cl.blocked;
        if (!b) continue;
        const ctx = new Context(this, cl);
        const mod = this.modCount;
        let served: boolean;
        const prevClient = this.currentClient;
        this.currentClient = cl;
        // Each served (or retried) waiter is its own execution unit for propagation.
        this.unitDepth++;
        try {
          // The key that became ready goes first, as Redis serves a multi-key waiter from the pushed key.
          served = b.req.retry(ctx, k.slice(k.indexOf('\0') + 1));
        } catch (e) {
          // A failing retry must not take the server down: the client gets the error and is released.
          cl.reply.error(`ERR ${(e as Error).message}`);
          this.log('warning', `Internal error serving blocked '${b.spec.name}': ${(e as Error).stack ?? e}`);
          served = true;
        } finally {
          this.currentClient = prevClient;
        }
        if (!served) {
          this.endUnit(b.spec.name);
          continue;
        }
        this.unblock(cl);
        this.afterCall(cl, b.spec, b.argv, ctx, mod, 0);
        this.endUnit(b.spec.name);
        resumed.push(cl);
      }
    }
    for (const cl of resumed) {
      cl.flush();
      // Pipelined commands behind the blocking one run now, on a later turn so writers are not starved.
      setImmediate(() => this.resumeClient(cl));
    }
  }

  /** Continues with a client's pipelined input once it is no longer blocked. */
  resumeClient(c: Client): void {
    if (c.closed || c.blocked || c.paused) return;
    this.processClient(c);
    c.flush();
  }

  // ---- pub/sub ----

  subscribe(c: Client, channel: string, pattern: boolean): boolean {
    const own = pattern ? c.patterns : c.channels;
    if (own.has(channel)) return false;
    own.add(channel);
    const map = pattern ? this.patterns : this.channels;
    let set = map.get(channel);
    if (!set) {
      set = new Set();
      map.set(channel, set);
    }
    set.add(c);
    c.kind = c.kind === 'normal' ? 'pubsub' : c.kind;
    return true;
  }

  unsubscribe(c: Client, channel: string, pattern: boolean): boolean {
    const own = pattern ? c.patterns : c.channels;
    if (!own.delete(channel)) return false;
    this.removeSub(pattern ? this.patterns : this.channels, channel, c);
    if (c.subscriptionCount === 0 && c.kind === 'pubsub') c.kind = 'normal';
    return true;
  }

  private removeSub(map: Map<string, Set<Client>>, name: string, c: Client): void {
    const set = map.get(name);
    if (!set) return;
    set.delete(c);
    if (set.size === 0) map.delete(name);
  }

  /** notify-keyspace-events as flag bits; 0 (the default) makes every notify call one failed integer test. */
  keyspaceEventFlags = 0;

  notifyKeyspaceEvent(type: number, event: string, key: string, dbIndex: number): void {
    const flags = this.keyspaceEventFlags;
    if ((flags & type) === 0) return;
    if (flags & NOTIFY_KEYSPACE) this.publish(`__keyspace@${dbIndex}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.publish(`__keyevent@${dbIndex}__:${event}`, key);
  }

  private applyKeyspaceEvents(value: string): void {
    const flags = keyspaceEventsToFlags(value);
    this.keyspaceEventFlags = flags < 0 ? 0 : flags;
    // "new" fires where a key is created, deep in the store; it only gets a hook while the class is on.
    const onNew = (this.keyspaceEventFlags & NOTIFY_NEW) !== 0 ? (db: Db, key: string) => this.notifyKeyspaceEvent(NOTIFY_NEW, 'new', key, db.index) : null;
    for (const db of this.dbs) if (db instanceof KeyspaceDb) db.onNewKey = onNew;
  }

  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const cl of subs) {
        cl.reply.pushHeader(3);
        cl.reply.bulk('message');
        cl.reply.bulk(channel);
        cl.reply.bulk(message);
        cl.flush();
        n++;
      }
    }
    for (const [pat, set] of this.patterns) {
      if (!globMatch(pat, channel)) continue;
      for (const cl of set) {
        cl.reply.pushHeader(4);
        cl.reply.bulk('pmessage');
        cl.reply.bulk(pat);
        cl.reply.bulk(channel);
        cl.reply.bulk(message);
        cl.flush();
        n++;
      }
    }
    return n;
  }

  // ---- monitor, slowlog ----

  private feedMonitors(c: Client, argv: string[], dbIndex: number): void {
    const now = Date.now();
    const us = Math.floor((performance.timeOrigin * 1000 + performance.now() * 1000) % 1000000);
    let line = `+${Math.floor(now / 1000)}.${String(us).padStart(6, '0')} [${dbIndex} ${c.addr}]`;
    for (const a of argv) line += ' ' + reprString(a);
    line += '\r\n';
    for (const m of this.monitors) {
      if (m === c) continue;
      m.reply.raw(line);
      m.flush();
    }
  }

  private slowlogPush(c: Client, argv: string[], micros: number): void {
    const maxArgs = 32;
    const args: string[] = [];
    const n = Math.min(argv.length, maxArgs);
    for (let i = 0; i < n; i++) {
      if (i === maxArgs - 1 && argv.length > maxArgs) {
        args.push(`... (${argv.length - maxArgs + 1} more arguments)`);
        break;
      }
      const a = argv[i];
      args.push(a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a);
    }
    this.slowlog.unshift({ id: this.slowlogNextId++, time: Math.floor(Date.now() / 1000), micros, argv: args, addr: c.addr, name: c.name });
    const max = this.config.getNumber('slowlog-max-len');
    if (this.slowlog.length > max) this.slowlog.length = max;
  }

  // ---- cron ----

  private cron(): void {
    const now = Date.now();
    this.hzCount++;
    if (this.tracking.inUse) this.tracking.limit();
    const expireStart = performance.now();
    for (const db of this.activeExpire ? this.dbs : []) {
      try {
        db.activeExpireCycle(200);
      } catch (e) {
        this.log('warning', `Active expiry failed: ${(e as Error).message}`);
      }
    }
    const expireMs = Math.floor(performance.now() - expireStart);
    if (this.latencyThresholdUs > 0 && expireMs * 1000 >= this.latencyThresholdUs) this.latency.add('expire-cycle', expireMs);
    const idle = this.config.getNumber('timeout') * 1000;
    for (const c of this.clients.values()) {
      if (c.blocked && c.blocked.deadline > 0 && now >= c.blocked.deadline) {
        const b = c.blocked;
        this.unblock(c);
        try {
          b.req.onTimeout(c.reply);
        } catch (e) {
          c.reply.error(`ERR ${(e as Error).message}`);
        }
        c.flush();
        setImmediate(() => this.resumeClient(c));
      } else if (idle > 0 && c.kind === 'normal' && !c.blocked && now - c.lastInteraction > idle) {
        this.log('verbose', `Closing idle client`);
        c.destroy();
      }
    }
    if (this.pauseUntil > 0 && now >= this.pauseUntil) this.unpause();
    try {
      this.replication.cron(now);
      this.persistence.cron(now);
    } catch (e) {
      this.log('warning', `Cron hook failed: ${(e as Error).message}`);
    }
    this.handleReadyKeys();
  }

  /** A CLIENT PAUSE (WRITE or ALL) is in force: no key is expired or evicted until it ends. */
  clientsPaused(): boolean {
    return this.pauseUntil > 0 && Date.now() < this.pauseUntil;
  }

  /** Ends CLIENT PAUSE: runs every postponed command in client order. */
  unpause(): void {
    this.pauseUntil = 0;
    for (const c of this.clients.values()) {
      if (!c.paused) continue;
      const argv = c.paused;
      c.paused = null;
      this.processCommand(c, argv);
      this.handleReadyKeys();
      this.processClient(c);
      c.flush();
    }
  }

  /** Runs a command for an internal client (replication's master link) with the same rules. */
  dispatch(c: Client, argv: string[]): void {
    this.processCommand(c, argv);
    this.handleReadyKeys();
  }
}

/** The CommandContext given to one execution. */
class Context implements CommandContext {
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

function formatAddr(ip: string, port: number): string {
  if (ip.startsWith('::ffff:')) ip = ip.slice(7);
  return `${ip}:${port}`;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.');
}

/** Narrow helper for command modules that need the concrete client. */
export function asClient(c: ClientState): Client {
  return c as Client;
}

/** Narrow helper for command modules that need the concrete server. */
export function asServer(s: ServerApi): RedisServer {
  return s as RedisServer;
}
