/**
 * The contract between the server and every command module. A module exports CommandSpec[];
 * commands/table.ts is the only place that gathers them all.
 */
import type { Db, Value } from '../store/types.js';
import type { EncodingLimits } from '../store/limits.js';

/** Writes one reply into the client's output buffer (flushed once per read, never per reply). */
export interface Reply {
  readonly resp: 2 | 3;
  ok(): void;
  simple(s: string): void;
  /** Full error line without the leading '-', e.g. "ERR syntax error" or "WRONGTYPE ...". */
  error(msg: string): void;
  integer(n: number | bigint): void;
  /** A bulk string (latin1); null gives the null bulk ($-1 in RESP2, _ in RESP3). */
  bulk(s: string | null): void;
  /** The null array (*-1 in RESP2, _ in RESP3). */
  nullArray(): void;
  arrayHeader(n: number): void;
  /** An array of bulk strings (null elements become null bulks). */
  bulkArray(items: readonly (string | null)[]): void;
  /** RESP3 map (%n) / RESP2 flat array of 2n. n counts pairs. */
  mapHeader(n: number): void;
  /** RESP3 set (~n) / RESP2 array. */
  setHeader(n: number): void;
  /** RESP3 double / RESP2 bulk string, formatted as Redis formats doubles (inf, -inf, %.17g). */
  double(d: number): void;
  /** RESP3 #t/#f / RESP2 :1/:0. */
  bool(b: boolean): void;
  /** RESP3 verbatim (=len txt:...) / RESP2 bulk. */
  verbatim(s: string, format?: string): void;
  /** RESP3 push (>n) / RESP2 array (pub/sub messages). */
  pushHeader(n: number): void;
  /** Pre-encoded RESP bytes (latin1), for replies built elsewhere. */
  raw(s: string): void;
}

/** A tracking client's mode (CLIENT TRACKING; Redis keeps these as client flags). */
export interface ClientTracking {
  /** Client id invalidations go to, 0 = this connection. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING yes (OPTIN) / no (OPTOUT) was given for the next command. */
  caching: boolean;
  brokenRedirect: boolean;
  /** BCAST prefixes, in the byte order Redis's radix tree lists them. */
  prefixes: string[];
}

/** CLIENT TRACKING's options, as parsed from the command. */
export interface TrackingOptions {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** One queued MULTI command. */
export interface QueuedCommand {
  spec: CommandSpec;
  argv: string[];
}

/**
 * Per-connection state visible to commands. The server hands commands its own client objects, so a ClientState
 * a command got from the server (ctx.client, server.clients) is what the server's methods below accept.
 */
export interface ClientState {
  readonly id: number;
  name: string;
  dbIndex: number;
  resp: 2 | 3;
  authenticated: boolean;
  user: string;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt: number;
  lastInteraction: number;
  lastCommand: string;
  /** 'normal' | 'replica' | 'master' | 'pubsub', as CLIENT LIST's flags and TYPE filter need. */
  kind: 'normal' | 'replica' | 'master' | 'pubsub';
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  /** Shard channels (SSUBSCRIBE), counted apart from channels and patterns as Redis does. */
  readonly shardChannels: Set<string>;
  /** Number of subscriptions, as (P)SUBSCRIBE replies count them. */
  readonly subscriptionCount: number;
  /** True while inside MULTI (commands are queued by the server, not executed). */
  inMulti: boolean;
  readonly multiQueue: readonly QueuedCommand[];
  noEvict: boolean;
  /** MONITOR is on for this client. */
  monitor: boolean;
  /** CLIENT REPLY OFF / SKIP. */
  replyMode: 'on' | 'off' | 'skip';
  /** CLIENT TRACKING mode, null when off. */
  readonly tracking: ClientTracking | null;
  /** What the client waits for while blocked (BLPOP, WAIT ...), else null. */
  readonly blocked: { readonly req: BlockRequest; readonly deadline: number } | null;
  /** The command held back by CLIENT PAUSE, else null. */
  readonly paused: string[] | null;
  /** Bytes of the query buffer (CLIENT LIST's qbuf). */
  readonly queryBufferLength: number;
  /** Set once the connection is closing / closed. */
  readonly closing: boolean;
  readonly closed: boolean;
  /** This client's reply buffer (to answer a client other than the caller: CLIENT UNBLOCK). */
  readonly reply: Reply;
  /** Writes what is pending in its reply buffer. */
  flush(): void;
  /** Closes the connection after pending replies are flushed. */
  close(afterReply?: boolean): void;
  /** Drops the connection at once (CLIENT KILL of another client). */
  destroy(): void;
}

/** What a blocking command returns when it cannot be served yet. */
export interface BlockRequest {
  keys: string[];
  /** 0 = forever. */
  timeoutMs: number;
  /**
   * Called when a key was signalled ready; returns true if it served the client (wrote the reply).
   * readyKey (optional, additive): the key that was signalled, so a multi-key waiter is served from it as in Redis.
   */
  retry(ctx: CommandContext, readyKey?: string): boolean;
  /** Reply on timeout (null array for BLPOP and friends). */
  onTimeout(reply: Reply): void;
}

export interface CommandContext {
  readonly client: ClientState;
  readonly reply: Reply;
  readonly db: Db;
  readonly server: ServerApi;
  /** Replace what is propagated to replicas for this call (e.g. SET EX -> SET PXAT, SPOP -> SREM). */
  propagateAs(argvs: string[][]): void;
  /** Suppress propagation for this call (e.g. a no-op write). */
  noPropagate(): void;
}

/** One SLOWLOG entry. */
export interface SlowlogEntry {
  id: number;
  /** Unix seconds. */
  time: number;
  micros: number;
  argv: string[];
  addr: string;
  name: string;
}

/** A command's latency samples (INFO latencystats, LATENCY HISTOGRAM). */
export interface LatencySamples {
  readonly total: number;
  valueAtPercentile(percentile: number): number;
  /** [microseconds, cumulative count] at each power of two. */
  cdf(): [number, number][];
}

/** One command's counters (INFO commandstats). */
export interface CommandStatView {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  hist: LatencySamples | null;
}

/** LATENCY's event samples (latency-monitor-threshold). */
export interface LatencyEvents {
  latest(): [string, number, number, number][];
  history(event: string): [number, number][] | undefined;
  reset(event?: string): number;
  graph(event: string): string | undefined;
  doctor(settings: { threshold: number; slowlogSlowerThan: number; hz: number }): string;
}

/** CLIENT TRACKING's table, as the CLIENT command and INFO use it. */
export interface TrackingTable {
  /** An error line if these options may not be enabled for the client, else null. */
  refusal(c: ClientState, o: TrackingOptions): string | null;
  enable(c: ClientState, o: TrackingOptions): void;
  disable(c: ClientState): void;
  readonly clients: number;
  readonly totalKeys: number;
  readonly totalItems: number;
  readonly totalPrefixes: number;
}

/** CLIENT PAUSE's state: until (unix ms, 0 = none) and whether only writes wait. */
export interface PauseState {
  until: number;
  writesOnly: boolean;
}

/** The parts of the server commands may reach; server/server.ts implements it. */
export interface ServerApi {
  readonly startedAt: number;
  readonly runId: string;
  readonly dbs: Db[];
  readonly config: ConfigApi;
  /** 'standalone', 'cluster' or 'sentinel' (INFO's redis_mode, HELLO's mode). */
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  readonly tcpPort: number;
  /** Wakes clients blocked on this key (called by LPUSH, ZADD, ... after they add data). */
  signalKeyReady(db: Db, key: string): void;
  /** Signals every key some client waits on in this db (after SWAPDB changed what the db holds). */
  signalBlockedKeysIn?(db: Db): void;
  publish(channel: string, message: string): number;
  /** notify-keyspace-events as flag bits (config/keyspace-events.ts); 0 when off. Test `& type` before notifying. */
  readonly keyspaceEventFlags?: number;
  /** Publishes a keyspace event (__keyspace@db__:key / __keyevent@db__:event) if its class is enabled. */
  notifyKeyspaceEvent?(type: number, event: string, key: string, dbIndex: number): void;
  /** Replication state; replication/ installs the real one, the default is a master without replicas. */
  replication: ReplicationHooks;
  /** RDB persistence; replication/ installs the real one. */
  persistence: PersistenceHooks;
  /** Users, AUTH and permissions; acl/ installs the real one, the default knows only requirepass. */
  access: AccessHooks;
  log(level: 'debug' | 'verbose' | 'notice' | 'warning', msg: string): void;
  /** A DEBUG subcommand an installed mode adds (DEBUG REPLY-FAULT from faults/), by lower-case name. */
  debugSubcommand(name: string): ((ctx: CommandContext, argv: string[]) => void) | undefined;
  /** Counters INFO stats shows; commands bump them (e.g. expired_keys, keyspace_hits). */
  readonly stats: Record<string, number>;
  /** This server's encoding thresholds (*-max-listpack-*), current with CONFIG SET. */
  readonly encodingLimits: EncodingLimits;

  // ---- clients (CLIENT, RESET, MONITOR, WAIT) ----
  readonly clients: ReadonlyMap<number, ClientState>;
  clientById(id: number): ClientState | undefined;
  /** The client whose command runs now (null in the cron and in replication's own work). */
  readonly currentClient: ClientState | null;
  readonly monitors: Set<ClientState>;
  readonly tracking: TrackingTable;
  readonly pause: PauseState;
  /** Ends CLIENT PAUSE: postponed commands run in client order. */
  unpause(): void;
  /** Releases a blocked client from every wait list (its reply is the caller's to write). */
  unblock(c: ClientState): void;
  /** Runs a released client's pipelined input. */
  resumeClient(c: ClientState): void;

  // ---- transactions, pub/sub ----
  exec(c: ClientState): void;
  discard(c: ClientState): void;
  watch(c: ClientState, key: string): void;
  unwatchAll(c: ClientState): void;
  subscribe(c: ClientState, channel: string, pattern: boolean): boolean;
  unsubscribe(c: ClientState, channel: string, pattern: boolean): boolean;
  readonly channels: ReadonlyMap<string, ReadonlySet<ClientState>>;
  readonly patterns: ReadonlyMap<string, ReadonlySet<ClientState>>;
  subscribeShard(c: ClientState, channel: string): boolean;
  unsubscribeShard(c: ClientState, channel: string): boolean;
  /** SPUBLISH's local delivery (smessage); the cluster mode also sends it to the shard's other nodes. */
  publishShard(channel: string, message: string): number;
  readonly shardChannels: ReadonlyMap<string, ReadonlySet<ClientState>>;

  // ---- introspection (INFO, COMMAND, SLOWLOG, LATENCY, CONFIG, DEBUG, SHUTDOWN) ----
  readonly commands: ReadonlyMap<string, CommandSpec>;
  lookup(name: string): CommandSpec | undefined;
  readonly commandStats: Map<string, CommandStatView>;
  readonly errorStats: Map<string, number>;
  readonly slowlog: SlowlogEntry[];
  readonly latency: LatencyEvents;
  /** INFO sections modes added: name -> lines. */
  readonly extraInfo: ReadonlyMap<string, () => string[]>;
  /** Bytes read from and written to clients. */
  readonly net: { readonly in: number; readonly out: number };
  /** Used memory as INFO's used_memory reports it. */
  usedMemory(): number;
  /** Highest used_memory INFO has shown. */
  memoryPeak: number;
  /** DEBUG SET-ACTIVE-EXPIRE. */
  activeExpire: boolean;
  /** SHUTDOWN: an error line when it cannot shut down, else undefined (the process exits). */
  shutdown(opts: { save?: boolean; nosave?: boolean }): string | undefined;
}

/** The replication role as commands and the core see it; replication/ provides the real one (server/modes.ts). */
export interface ReplicationHooks {
  role(): 'master' | 'replica';
  /** Lines of INFO's "# Replication" section, without the header. */
  infoLines(): string[];
}

/** Who may connect and run what (Redis's ACL); acl/ provides the real one (server/modes.ts). */
export interface AccessHooks {
  /** Whether a new connection starts unauthenticated (the default user has a password or is off). */
  authRequired(): boolean;
  /** Whether the default user takes any password (AUTH <password> is then an error). */
  defaultNoPass(): boolean;
  /** AUTH / HELLO AUTH: undefined when the pair is valid (the client is then that user), else the error line. */
  authenticate(c: ClientState, user: string, pass: string, cmdName: string): string | undefined;
  /** Whether a user of this name exists (CLIENT KILL USER). */
  userExists(name: string): boolean;
  /**
   * Where processCommand calls ACLCheckAllPerm (after no_multi, before cluster redirection): the NOPERM line refusing
   * the command, or undefined. inExec: EXEC's re-check of a queued command (its own error text).
   */
  check?(c: ClientState, spec: CommandSpec, argv: string[], inExec: boolean): string | undefined;
}

/** SAVE, LASTSAVE and INFO persistence; replication/ provides the real one. */
export interface PersistenceHooks {
  /** Lines of INFO's "# Persistence" section, without the header. */
  infoLines(): string[];
  /** Unix seconds of the last successful save. */
  lastSave(): number;
  /** Synchronous save to dir/dbfilename; throws on failure. */
  save(): void;
  /** The MISCONF error while writes are denied because the last background save failed, else undefined. */
  writesDeniedBy?(): string | undefined;
  /** True while the dataset loads: a shutdown then saves nothing (the partial dataset would overwrite the file). */
  isLoading?(): boolean;
}

export interface ConfigApi {
  get(name: string): string | undefined;
  getNumber(name: string): number;
  getBool(name: string): boolean;
  /** Throws Error with Redis's CONFIG SET message on a bad value. */
  set(name: string, value: string): void;
  /** Every known (name, value), for CONFIG GET globs. */
  entries(): Iterable<[string, string]>;
  /** CONFIG GET: the (name, value) pairs matching any of the patterns. */
  getMatching(patterns: string[]): [string, string][];
  /** CONFIG SET of several pairs, all or nothing: the error line, or undefined. */
  setMany(pairs: [string, string][]): string | undefined;
  /** CONFIG REWRITE: the error, or undefined. */
  rewrite(): string | undefined;
  /** The absolute path of the config file, '' without one. */
  readonly configFile: string;
}

export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'module' | 'admin' | 'pubsub' | 'noscript' | 'blocking'
  | 'loading' | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'asking' | 'fast' | 'no_auth'
  | 'may_replicate' | 'sentinel' | 'only_sentinel' | 'no_mandatory_keys' | 'protected'
  | 'no_async_loading' | 'no_multi' | 'movablekeys' | 'allow_busy';

export interface CommandSpec {
  /** Lower case, as COMMAND shows it; subcommands are "parent|sub". */
  name: string;
  /** Redis arity: positive = exact argc, negative = at least -arity. */
  arity: number;
  flags: CommandFlag[];
  firstKey: number;
  lastKey: number;
  step: number;
  /** ACL categories without '@', e.g. ['write', 'string', 'slow']. */
  categories: string[];
  subcommands?: CommandSpec[];
  /** Key positions for commands whose keys move (movablekeys), for COMMAND GETKEYS and cluster. */
  getKeys?(argv: string[]): string[];
  /** argv[0] is the command name as sent. Returning a BlockRequest blocks the client. */
  execute(ctx: CommandContext, argv: string[]): void | BlockRequest;
}

export type { Db, Value };
