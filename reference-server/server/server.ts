/**
 * The server core (Redis's server.c): the state every part shares, listeners and the client table, startup and
 * shutdown, and the keyspace callbacks the Db makes. Each concern lives in its own file of this folder, named as
 * Redis names it: dispatch (processCommand/call), multi, blocked, pubsub, notify, slowlog, monitor, pause, cron,
 * propagate, maxmemory (evict.c), tracking, latency-monitor. Modes plug in through install() (modes.ts).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmodSync, unlinkSync, writeFileSync } from 'node:fs';
import type {
  AccessHooks, CommandContext, CommandSpec, Db, PersistenceHooks, ReplicationHooks, ServerApi,
} from '../commands/command.js';
import { adoptAccepted, Client, type ClientHost } from './connection.js';
import { LatencyMonitor } from './latency-monitor.js';
import { Tracking, type TrackingHost } from './tracking.js';
import { MemoryLimit, usedMemory, type EvictionHost, type EvictionPolicy } from './maxmemory.js';
import { limitsFromConfig, type EncodingLimits } from '../store/limits.js';
import { valueSize } from '../commands/memory.js';
import type { Value } from '../store/types.js';
import { REDIS_VERSION, type Config } from '../config/config.js';
import { KeyspaceDb } from '../store/db.js';
import { parseMemory } from '../config/directives.js';
import { NOTIFY_EVICTED, NOTIFY_EXPIRED } from '../config/keyspace-events.js';
import { ServerLog, type LogLevel } from './log.js';
import { countError, StatMap, type CommandStat } from './stats.js';
import { Dispatcher, isLoopback } from './dispatch.js';
import { Transactions } from './multi.js';
import { BlockedClients } from './blocked.js';
import { PubSub } from './pubsub.js';
import { KeyspaceNotifier } from './notify.js';
import { Slowlog, type SlowlogEntry } from './slowlog.js';
import { ClientPause } from './pause.js';
import { Propagation } from './propagate.js';
import { serverCron } from './cron.js';
import { ModeHooks, type ClientSlot, type InfoSection, type ServerMode } from './modes.js';

export { REDIS_VERSION };
export type { LogLevel, CommandStat, SlowlogEntry };

/** The directives store/limits.ts reads. */
const ENCODING_DIRECTIVES = new Set([
  'rdbcompression', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value',
  'set-max-intset-entries', 'list-max-listpack-size',
]);

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
  };
}

/** Access without acl/: only the default user, whose password is requirepass. */
export function defaultAccessHooks(server: RedisServer): AccessHooks {
  const requirepass = () => server.config.get('requirepass') ?? '';
  const wrongpass = 'WRONGPASS invalid username-password pair or user is disabled.';
  return {
    authRequired: () => requirepass() !== '',
    defaultNoPass: () => requirepass() === '',
    authenticate: (c, user, pass) => {
      if (user !== 'default' || (requirepass() !== '' && pass !== requirepass())) return wrongpass;
      c.authenticated = true;
      c.user = 'default';
      return undefined;
    },
    userExists: (name) => name === 'default',
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
  /** The replication role and INFO lines; a mode providing `replication` replaces the default (a master). */
  replication: ReplicationHooks;
  /** SAVE and INFO persistence; a mode providing `persistence` replaces the default. */
  persistence: PersistenceHooks;
  /** Users, AUTH and permissions; a mode providing `access` (acl/) replaces the default (requirepass only). */
  access: AccessHooks;
  readonly stats: Record<string, number> = {
    total_connections_received: 0, total_commands_processed: 0, rejected_connections: 0, expired_keys: 0,
    evicted_keys: 0, keyspace_hits: 0, keyspace_misses: 0, total_net_input_bytes: 0, total_net_output_bytes: 0,
    total_error_replies: 0, dirty: 0, expired_stale_perc: 0, sync_full: 0, sync_partial_ok: 0, sync_partial_err: 0,
    unexpected_error_replies: 0, total_reads_processed: 0, total_writes_processed: 0, pubsub_channels: 0,
  };
  /** The command table (lower- and upper-case names); modes add to it or replace it through install(). */
  commands: Map<string, CommandSpec>;
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  readonly clients = new Map<number, Client>();
  readonly commandStats: Map<string, CommandStat> = new StatMap();
  readonly errorStats = new Map<string, number>();
  readonly monitors = new Set<Client>();
  /** Set by the shutdown path; the bin exits when it resolves. */
  shuttingDown = false;
  /** Extra sections for INFO, added by modes (cluster, sentinel): name -> lines. */
  readonly extraInfo = new Map<string, () => string[]>();
  /** Called on SHUTDOWN / signals after cleanup; bin sets it to process.exit. */
  onExit: (code: number) => void = () => {};
  tcpPort = 0;
  /** Highest used_memory INFO has shown. */
  memoryPeak = 0;
  /** DEBUG SET-ACTIVE-EXPIRE 0 turns the cron's expiry cycle off. */
  activeExpire = true;
  readonly net = { in: 0, out: 0 };
  /** The client whose command is running (replicas let their master's stream see expired keys). */
  currentClient: Client | null = null;
  /** Counts key modifications: a command that changed it is a write to propagate. */
  modCount = 0;
  /** *-max-listpack-*, set-max-intset-entries: this server's own (kept current by CONFIG SET), never another's. */
  readonly encodingLimits: EncodingLimits;

  readonly modeHooks = new ModeHooks();
  readonly dispatcher: Dispatcher = new Dispatcher(this);
  readonly multi: Transactions = new Transactions(this);
  readonly blocked: BlockedClients = new BlockedClients(this);
  readonly pubsub = new PubSub();
  readonly notifier = new KeyspaceNotifier((channel, message) => this.pubsub.publish(channel, message));
  readonly slowlogLog = new Slowlog();
  readonly pause: ClientPause = new ClientPause(this);
  readonly propagation = new Propagation(this.modeHooks);

  /** Hard limits of client-output-buffer-limit per class. */
  private outLimits = { normal: 0, replica: 256 * 1024 * 1024, pubsub: 32 * 1024 * 1024 };
  private listeners: net.Server[] = [];
  private nextClientId = 1;
  private cronTimer: NodeJS.Timeout | null = null;
  private readonly logger: ServerLog;
  /** Client slots allocated to modes (index into Client.modeSlots). */
  private clientSlots = 0;

  constructor(opts: ServerOptions) {
    this.config = opts.config;
    this.commands = opts.commands;
    this.encodingLimits = limitsFromConfig(this.config);
    this.mode = opts.mode ?? (opts.config.getBool('cluster-enabled') ? 'cluster' : 'standalone');
    this.replication = defaultReplicationHooks(this);
    this.persistence = defaultPersistenceHooks(this);
    this.access = defaultAccessHooks(this);
    this.logger = new ServerLog(this.config.get('loglevel') ?? 'notice',
      () => (this.mode === 'sentinel' ? 'X' : this.replication.role() === 'replica' ? 'S' : 'M'),
      () => this.config.get('logfile') ?? '');
    const d = this.dispatcher;
    d.slowlogThreshold = this.config.getNumber('slowlog-log-slower-than');
    d.queryBufferLimit = this.config.getNumber('client-query-buffer-limit');
    d.protoMaxBulkLen = this.config.getNumber('proto-max-bulk-len');
    d.latencyTracking = this.config.getBool('latency-tracking');
    d.latencyThresholdUs = this.config.getNumber('latency-monitor-threshold') * 1000;
    this.parseOutputLimits(this.config.get('client-output-buffer-limit') ?? '');
    this.applyMemoryConfig();
    this.tracking.maxKeys = this.config.getNumber('tracking-table-max-keys');
    this.config.onChange((name, value) => {
      if (name === 'tracking-table-max-keys') this.tracking.maxKeys = Number(value);
      if (ENCODING_DIRECTIVES.has(name)) limitsFromConfig(this.config, this.encodingLimits);
      if (name === 'maxmemory' || name === 'maxmemory-policy' || name === 'maxmemory-samples') this.applyMemoryConfig();
      // CONFIG SET maxmemory evicts at once, as updateMaxmemory's performEvictions does (the "evicted" events follow it).
      if (name === 'maxmemory' && this.memory.limit > 0 && !this.clientsPaused()) this.memory.ensure();
      if (name === 'notify-keyspace-events') this.notifier.configure(value, this.dbs);
      if (name === 'client-output-buffer-limit') this.parseOutputLimits(value);
      if (name === 'loglevel') this.logger.setLevel(value);
      if (name === 'slowlog-log-slower-than') d.slowlogThreshold = Number(value);
      if (name === 'client-query-buffer-limit') d.queryBufferLimit = Number(value);
      if (name === 'proto-max-bulk-len') d.protoMaxBulkLen = Number(value);
      if (name === 'latency-tracking') d.latencyTracking = value === 'yes';
      if (name === 'latency-monitor-threshold') d.latencyThresholdUs = Number(value) * 1000;
      if (name === 'requirepass' && value === '') for (const c of this.clients.values()) c.authenticated = true;
    });
    const n = this.config.getNumber('databases');
    for (let i = 0; i < n; i++) this.dbs.push(opts.createDb(i, this));
    this.notifier.configure(this.config.get('notify-keyspace-events') ?? '', this.dbs);
  }

  // ---- modes ----

  /** What this server calls itself in its log: Redis's server.sentinel_mode ? "Sentinel" : "Redis". */
  private logName = 'Redis';

  /** Plugs a mode in: its hooks join the fixed points, its INFO sections and roles take effect. */
  install(mode: ServerMode): void {
    this.modeHooks.add(mode);
    if (mode.logName) this.logName = mode.logName;
    if (mode.replication) this.replication = mode.replication;
    if (mode.persistence) this.persistence = mode.persistence;
    if (mode.access) this.access = mode.access;
    for (const section of mode.infoSections ?? []) this.addInfoSection(section);
    if (mode.keyAdded || mode.keyRemoved) this.watchKeyspace();
  }

  debugSubcommand(name: string): ((ctx: CommandContext, argv: string[]) => void) | undefined {
    return this.modeHooks.debugSubcommands.get(name);
  }

  addInfoSection(section: InfoSection): void {
    this.extraInfo.set(section.name.toLowerCase(), () => section.lines());
  }

  /** Adds commands to the table (a "parent|sub" name adds a subcommand to its parent container). */
  registerCommands(specs: readonly CommandSpec[]): void {
    for (const spec of specs) {
      const bar = spec.name.indexOf('|');
      if (bar >= 0) {
        const parent = this.commands.get(spec.name.slice(0, bar));
        if (parent === undefined) throw new Error(`registerCommands: no parent command for '${spec.name}'`);
        const subs = (parent.subcommands ??= []);
        const at = subs.findIndex((s) => s.name === spec.name);
        if (at >= 0) subs[at] = spec;
        else subs.push(spec);
        continue;
      }
      this.commands.set(spec.name, spec);
      this.commands.set(spec.name.toUpperCase(), spec);
    }
    this.dispatcher.tableChanged();
  }

  /** Replaces the whole command table (Sentinel mode serves only Sentinel's commands). */
  replaceCommands(specs: readonly CommandSpec[]): void {
    this.commands = new Map();
    this.registerCommands(specs);
  }

  /** A per-client value for a mode (Cluster's ASKING/READONLY), initialised lazily for each client. */
  clientSlot<T>(init: () => T): ClientSlot<T> {
    const index = this.clientSlots++;
    return {
      get: (c) => {
        const slots = c.modeSlots;
        if (index >= slots.length || slots[index] === undefined) slots[index] = init();
        return slots[index] as T;
      },
      set: (c, value) => {
        c.modeSlots[index] = value;
      },
    };
  }

  /** Points every db's key add/remove callbacks at the modes that asked for them. */
  private watchKeyspace(): void {
    const added = this.modeHooks.keyAdded;
    const removed = this.modeHooks.keyRemoved;
    for (const db of this.dbs) {
      if (!(db instanceof KeyspaceDb)) continue;
      db.keyEvents = {
        added: (d, key) => { for (const h of added) h(d, key); },
        removed: (d, key) => { for (const h of removed) h(d, key); },
      };
    }
  }

  // ---- memory ----

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
    if (this.replication.role() === 'master') this.propagation.queue(db.index, ['DEL', key]);
  }

  usedMemory(): number {
    return usedMemory();
  }

  sizeOf(key: string, value: Value): number {
    return key.length + 56 + valueSize(value, this.config.getNumber('maxmemory-samples'), this.encodingLimits);
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
    this.logger.log(level, msg);
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
    this.cronTimer = setInterval(() => serverCron(this), 100);
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
    this.logger.write('warning', 'oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo');
    this.logger.write('warning', `Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${process.pid}, just started`);
    this.logger.write('warning', 'Configuration loaded');
  }

  /**
   * After the listeners are up, as server.c prints its logo after initServer: Redis's test runner takes " PID: <pid>"
   * as started and "Failed listening on port" as busy, so a server that cannot bind must not print the first.
   */
  logInitialized(): void {
    this.logger.write('notice', `Redis-compatible reference server (TypeScript) PID: ${process.pid}`);
    this.logger.write('notice', `Running mode=${this.mode}, port=${this.config.getNumber('port')}.`);
    // redis-server logs these two only outside Sentinel mode (server.c main()).
    if (this.mode !== 'sentinel') this.logger.write('warning', 'Server initialized');
  }

  logReady(): void {
    if (this.mode !== 'sentinel') this.logger.write('notice', 'Ready to accept connections');
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
    if (opts.signal) this.logger.fromSignalHandler(`Received ${opts.signal} scheduling shutdown...`);
    this.logger.write('warning', 'User requested shutdown...');
    const saveConfigured = (this.config.get('save') ?? '') !== '';
    if (this.persistence.isLoading?.()) opts = { ...opts, nosave: true };
    if (!opts.nosave && (opts.save || saveConfigured)) {
      this.logger.write('notice', 'Saving the final RDB snapshot before exiting.');
      try {
        this.persistence.save();
        this.logger.write('notice', 'DB saved on disk');
      } catch (e) {
        this.logger.write('warning', `Error trying to save the DB, can't exit.`);
        if (!opts.signal) return 'ERR Errors trying to SHUTDOWN. Check logs.';
      }
    }
    const pidfile = this.config.get('pidfile') ?? '';
    if (pidfile !== '') {
      this.logger.write('notice', 'Removing the pid file.');
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
    this.logger.write('warning', `${this.logName} is now ready to exit, bye bye...`);
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
    for (const hook of this.modeHooks.shutdown) {
      try {
        hook();
      } catch {
        // Shutdown continues even if a mode's cleanup fails.
      }
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
    const requirePass = this.access.authRequired();
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
    c.reply.onError = (msg) => countError(this.stats, this.errorStats, msg);
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
    this.blocked.unblock(c);
    this.multi.unwatchAll(c);
    this.pubsub.clientClosed(c);
    this.monitors.delete(c);
    for (const hook of this.modeHooks.clientClosed) hook(c);
  }

  // ---- dispatch (dispatch.ts) ----

  /** Parses and runs every complete command buffered for the client (called once per socket read). */
  processClient(c: Client): void {
    this.dispatcher.processClient(c);
  }

  lookup(name: string): CommandSpec | undefined {
    return this.dispatcher.lookup(name);
  }

  processCommand(c: Client, argv: string[]): void {
    this.dispatcher.processCommand(c, argv);
  }

  /** Runs a command for an internal client (replication's master link) with the same rules. */
  dispatch(c: Client, argv: string[]): void {
    this.dispatcher.processCommand(c, argv);
    this.blocked.handleReadyKeys();
  }

  call(c: Client, spec: CommandSpec, argv: string[]): void {
    this.dispatcher.call(c, spec, argv);
  }

  stat(name: string): CommandStat {
    return (this.commandStats as StatMap).of(name);
  }

  /** Unix ms for key expiry and access clocks: fixed while a command runs (nested ones too), else the real time. */
  now(): number {
    return this.dispatcher.now();
  }

  // ---- transactions (multi.ts) ----

  exec(c: Client): void {
    this.multi.exec(c);
  }

  discard(c: Client): void {
    this.multi.discard(c);
  }

  watch(c: Client, key: string): void {
    this.multi.watch(c, key);
  }

  unwatchAll(c: Client): void {
    this.multi.unwatchAll(c);
  }

  // ---- keyspace callbacks from the Db (dbfactory.ts) ----

  /** A key changed (Db.signalModified / set / delete): invalidates WATCH and tracking, wakes waiters, counts the change. */
  keyModified(dbIndex: number, key: string): void {
    if (this.tracking.inUse) this.tracking.invalidate(key, this.currentClient);
    this.modCount++;
    // A waiter's key is absent, so any write to it creates it (RENAME, MOVE, COPY, RESTORE, *STORE): Redis's dbAdd signal.
    this.blocked.signalKeyReady(dbIndex, key);
    this.multi.touch(dbIndex, key);
  }

  /** FLUSHDB/FLUSHALL: watchers of keys the db held are invalidated (touchAllWatchedKeysInDb). */
  dbFlushed(dbIndex: number): void {
    if (this.tracking.inUse) this.tracking.flushed();
    this.modCount++;
    this.multi.touchAll(dbIndex, null);
  }

  /** SWAPDB, before the contents move: each side's watchers see the other's keys. */
  dbSwapping(a: number, b: number): void {
    this.modCount++;
    this.multi.touchAll(a, b);
    this.multi.touchAll(b, a);
  }

  /** A key was removed by expiry: counted and propagated as DEL, as Redis 7.0 does. */
  keyExpired(dbIndex: number, key: string): void {
    this.stats.expired_keys++;
    this.notifyKeyspaceEvent(NOTIFY_EXPIRED, 'expired', key, dbIndex);
    // The Db reports an expiry as a modification first; it is propagated as its own DEL, so it must not make the
    // running command look like a write that changed something.
    this.modCount--;
    if (this.replication.role() === 'master') this.propagation.queue(dbIndex, ['DEL', key]);
  }

  // ---- blocking (blocked.ts) ----

  unblock(c: Client): void {
    this.blocked.unblock(c);
  }

  signalKeyReady(db: Db, key: string): void {
    this.blocked.signalKeyReady(db.index, key);
  }

  signalBlockedKeysIn(db: Db): void {
    this.blocked.signalBlockedKeysIn(db);
  }

  handleReadyKeys(): void {
    this.blocked.handleReadyKeys();
  }

  /** Continues with a client's pipelined input once it is no longer blocked. */
  resumeClient(c: Client): void {
    if (c.closed || c.blocked || c.paused) return;
    this.dispatcher.processClient(c);
    c.flush();
  }

  // ---- pub/sub and keyspace notifications (pubsub.ts, notify.ts) ----

  get channels(): Map<string, Set<Client>> {
    return this.pubsub.channels;
  }

  get patterns(): Map<string, Set<Client>> {
    return this.pubsub.patterns;
  }

  subscribe(c: Client, channel: string, pattern: boolean): boolean {
    return this.pubsub.subscribe(c, channel, pattern);
  }

  unsubscribe(c: Client, channel: string, pattern: boolean): boolean {
    return this.pubsub.unsubscribe(c, channel, pattern);
  }

  publish(channel: string, message: string): number {
    return this.pubsub.publish(channel, message);
  }

  get shardChannels(): Map<string, Set<Client>> {
    return this.pubsub.shardChannels;
  }

  subscribeShard(c: Client, channel: string): boolean {
    return this.pubsub.subscribeShard(c, channel);
  }

  unsubscribeShard(c: Client, channel: string): boolean {
    return this.pubsub.unsubscribeShard(c, channel);
  }

  publishShard(channel: string, message: string): number {
    return this.pubsub.publishShard(channel, message);
  }

  /** notify-keyspace-events as flag bits; 0 when off. */
  get keyspaceEventFlags(): number {
    return this.notifier.flags;
  }

  notifyKeyspaceEvent(type: number, event: string, key: string, dbIndex: number): void {
    this.notifier.notify(type, event, key, dbIndex);
  }

  // ---- slowlog, pause (slowlog.ts, pause.ts) ----

  get slowlog(): SlowlogEntry[] {
    return this.slowlogLog.entries;
  }

  get pauseUntil(): number {
    return this.pause.until;
  }

  set pauseUntil(v: number) {
    this.pause.until = v;
  }

  get pauseWritesOnly(): boolean {
    return this.pause.writesOnly;
  }

  set pauseWritesOnly(v: boolean) {
    this.pause.writesOnly = v;
  }

  /** A CLIENT PAUSE (WRITE or ALL) is in force: no key is expired or evicted until it ends. */
  clientsPaused(): boolean {
    return this.pause.active();
  }

  /** Ends CLIENT PAUSE: runs every postponed command in client order. */
  unpause(): void {
    this.pause.end();
  }
}

function formatAddr(ip: string, port: number): string {
  if (ip.startsWith('::ffff:')) ip = ip.slice(7);
  return `${ip}:${port}`;
}
